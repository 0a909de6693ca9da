"""Related papers: the most similar abstracts by TF-IDF cosine (numpy + scipy.sparse).

In: the site's entries (slug, title, abstract) and a cache folder. Out: for every
slug, up to ``k`` other slugs, most similar first, ties broken by slug.

The weighting is scikit-learn's TfidfVectorizer with ``sublinear_tf``, smooth idf and
``max_df=0.5``, written out with numpy: importing scikit-learn alone took 0.6 s, more
than the whole computation for 5,000 papers. The result depends on the whole corpus
(idf weights), so it is cached under a key of every paper's text: edits to notes,
tags or templates reuse it. Similarities are computed in row blocks of bounded size,
so memory stays flat at 50,000 papers; the work is all pairs, O(n^2).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from site_builder.build.parallel import fork_map
from site_builder.incremental.engine import engine_digest
from site_builder.site import Entry
from site_builder.words import STOP_WORDS, TOKEN

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

DENSE_CELLS = 8_000_000
"""Largest TF-IDF matrix (papers x words) kept dense: 32 MB of float32."""
BLOCK_CELLS = 4_000_000
"""Most similarity scores held at once (16 MB of float32), whatever the corpus size."""
MIN_SIMILARITY = 0.05
TOKENIZE_PARALLEL_MIN = 2000
"""Fewer texts are tokenized in this process (a few ms per hundred)."""
MAX_DF = 0.5
"""Words in more than half the papers say nothing about which papers are alike."""
CACHE_VERSION = "related-v3"


def corpus_key(entries: Sequence[Entry], k: int) -> str:
    """A digest of every entry's slug, title and abstract (each entry's text_material,
    digested once per file), in slug order, and of the code and libraries (engine.py)."""
    digest = hashlib.blake2b(f"{CACHE_VERSION}:{engine_digest()}:{k}".encode(),
                             digest_size=16)
    digest.update("\0".join(sorted(f"{e.slug}\0{e.text_material}" for e in entries)).encode())
    return digest.hexdigest()


def tokenize(texts: Sequence[str]) -> tuple[tuple[str, ...], Any, Any]:
    """The texts' words as ids into their own vocabulary: (vocabulary, ids, words per
    text), the ids of all texts one after the other."""
    import numpy as np

    vocabulary: dict[str, int] = {}
    term_ids: list[int] = []
    lengths: list[int] = []
    for text in texts:
        ids = [vocabulary.setdefault(word, len(vocabulary))
               for word in TOKEN.findall(text.lower()) if word not in STOP_WORDS]
        term_ids += ids
        lengths.append(len(ids))
    return tuple(vocabulary), np.asarray(term_ids, dtype=np.int32), lengths


def tfidf_rows(texts: list[str]) -> Any:
    """The texts as L2-normalised TF-IDF rows, float32: a numpy array when it is small
    (DENSE_CELLS), else a scipy CSR matrix. A small digest never imports scipy (0.1 s,
    half of its related-papers time).

    Texts are tokenized in ranges across workers; the words are then numbered in
    sorted order, so the matrix does not depend on how the ranges fell.
    """
    import numpy as np

    parts = fork_map(lambda start, stop: [tokenize(texts[start:stop])], len(texts),
                     minimum=TOKENIZE_PARALLEL_MIN)
    words = sorted(set().union(*(part[0] for part in parts)))
    number = {word: index for index, word in enumerate(words)}
    term_ids = np.concatenate([np.asarray([number[w] for w in part[0]], dtype=np.int64)[part[1]]
                               if len(part[1]) else part[1].astype(np.int64) for part in parts])
    lengths = [n for part in parts for n in part[2]]
    shape = (len(texts), max(1, len(words)))
    # (row, word) pairs with their counts, sorted by row then word.
    cells, counts = np.unique(np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
                              * shape[1] + term_ids, return_counts=True)
    rows, cols = cells // shape[1], cells % shape[1]
    df = np.bincount(cols, minlength=shape[1])
    idf = np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0
    idf[df > MAX_DF * len(texts)] = 0.0
    weights = (1.0 + np.log(counts)) * idf[cols]  # sublinear tf
    norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=shape[0]))
    norms[norms == 0] = 1.0
    weights = (weights / norms[rows]).astype(np.float32)
    keep = weights != 0
    rows, cols, weights = rows[keep], cols[keep], weights[keep]
    if shape[0] * shape[1] <= DENSE_CELLS:
        dense = np.zeros(shape, dtype=np.float32)
        dense[rows, cols] = weights
        return dense
    from scipy.sparse import csr_matrix

    return csr_matrix((weights, (rows, cols)), shape=shape, dtype=np.float32)


def top_neighbours(scores: npt.NDArray[np.float32], take: int
                   ) -> list[list[tuple[int, float]]]:
    """Per row, the ``take`` highest (column, score), highest first, ties by column.

    Exact: every column scoring at least the row's take-th best is a candidate, and
    the candidates are ordered by (-score, column) in one sort.
    """
    import numpy as np

    width = scores.shape[1]
    kth = np.partition(scores, width - take, axis=1)[:, width - take]
    rows, cols = np.nonzero(scores >= kth[:, None])
    values = scores[rows, cols]
    order = np.lexsort((cols, -values, rows))
    best: list[list[tuple[int, float]]] = [[] for _ in range(scores.shape[0])]
    for row, col, value in zip(rows[order].tolist(), cols[order].tolist(),
                               values[order].tolist(), strict=True):
        if len(best[row]) < take:
            best[row].append((col, value))
    return best


def compute_related(slugs: list[str], texts: list[str], k: int) -> dict[str, list[str]]:
    """Top-k cosine neighbours for each text (slugs sorted, so ties break by slug)."""
    import numpy as np

    if len(slugs) < 2:
        return {s: [] for s in slugs}
    matrix = tfidf_rows(texts)
    dense = isinstance(matrix, np.ndarray)
    transposed = matrix.T if dense else matrix.T.tocsr()
    take = min(k, len(slugs) - 1)
    step = max(1, BLOCK_CELLS // len(slugs))
    starts = range(0, len(slugs), step)

    def blocks(first: int, stop: int) -> list[list[int]]:
        """Neighbour indexes of every row of blocks ``first`` to ``stop``."""
        found: list[list[int]] = []
        for start in starts[first:stop]:
            block = matrix[start:start + step] @ transposed
            if not dense:
                block = block.toarray()
            rows = np.arange(block.shape[0])
            block[rows, rows + start] = -1.0  # never related to itself
            # Round away float noise so order depends on the text, then the slug index.
            block = np.round(block, 6)
            found += [[j for j, score in best if score >= MIN_SIMILARITY]
                      for best in top_neighbours(block, take)]
        return found

    # Blocks are independent: on a large corpus they run across workers. A dense matrix
    # is multiplied by BLAS, in this process.
    neighbours = blocks(0, len(starts)) if dense else fork_map(blocks, len(starts), minimum=2)
    return {slug: [slugs[j] for j in near] for slug, near in zip(slugs, neighbours, strict=True)}


def load_related(path: Path) -> dict[str, list[str]] | None:
    """A cached related-papers map, or None if there is none (or it is unreadable)."""
    try:
        loaded: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded


def related_file(entries: Sequence[Entry], k: int = 5) -> str:
    """The name of the file that caches the related papers of exactly these entries."""
    return f"related-{corpus_key(entries, k)}.json"


def related_map(entries: Sequence[Entry], cache_dir: Path | None, k: int = 5,
                reuse: bool = True) -> dict[str, list[str]]:
    """Related slugs per slug; ``reuse=False`` (a clean build) recomputes, then caches."""
    cache = cache_dir / related_file(entries, k) if cache_dir else None
    loaded = load_related(cache) if reuse and cache is not None else None
    if loaded is not None:
        return loaded
    ordered = sorted(entries, key=lambda e: e.slug)
    result = compute_related([e.slug for e in ordered],
                             [f"{e.paper.title}\n{e.paper.title}\n{e.paper.abstract}"
                              for e in ordered], k)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        for old in cache.parent.glob("related-*.json"):
            old.unlink()
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, sort_keys=True), encoding="utf-8")
        tmp.replace(cache)
    return result
