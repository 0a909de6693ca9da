"""TF-IDF rows of texts and their nearest neighbours (numpy; scipy.sparse when large).

In: texts. Out: their word counts (count_words), L2-normalised TF-IDF rows (weigh,
tfidf_rows) and every row's nearest rows (nearest_rows, compute_related).

The weighting is scikit-learn's TfidfVectorizer with ``sublinear_tf``, smooth idf and
``max_df=0.5``, written out with numpy: importing scikit-learn alone took 0.6 s, more
than the whole computation for 5,000 papers. The search itself (neighbours.py) is
exact but scores exactly only the few candidates an estimate leaves.

numpy is imported here, at the top: this module is where it enters a build, and it is
itself imported only when related papers are computed or updated (related.py and
scoped.py import it at that one point), so a build that reuses them never loads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from site_builder.build.neighbours import Similarity, without_self
from site_builder.build.parallel import fork_map
from site_builder.words import STOP_WORDS, TOKEN

DENSE_CELLS = 8_000_000
"""Largest TF-IDF matrix (papers x words) kept dense: 32 MB of float32."""
BLOCK_CELLS = 4_000_000
"""Most similarity scores held at once (16 MB of float32), whatever the corpus size."""
TOKENIZE_PARALLEL_MIN = 2000
"""Fewer texts are tokenized in this process (a few ms per hundred)."""
MAX_DF = 0.5
"""Words in more than half the papers say nothing about which papers are alike."""


def tokenize(texts: Sequence[str]) -> tuple[tuple[str, ...], Any, Any]:
    """The texts' words as ids into their own vocabulary: (vocabulary, ids, words per
    text), the ids of all texts one after the other."""
    vocabulary: dict[str, int] = {}
    term_ids: list[int] = []
    lengths: list[int] = []
    for text in texts:
        ids = [vocabulary.setdefault(word, len(vocabulary))
               for word in TOKEN.findall(text.lower()) if word not in STOP_WORDS]
        term_ids += ids
        lengths.append(len(ids))
    return tuple(vocabulary), np.asarray(term_ids, dtype=np.int32), lengths


class WordCounts(NamedTuple):
    """How often each word occurs in each text: (row, column, count) cells sorted by
    row then column, the columns numbering ``words`` (sorted)."""

    words: tuple[str, ...]
    rows: Any
    cols: Any
    counts: Any
    texts: int


def count_words(texts: Sequence[str]) -> WordCounts:
    """The texts' word counts. Texts are tokenized in ranges across workers; the words
    are then numbered in sorted order, so the counts do not depend on how the ranges
    fell."""
    parts = fork_map(lambda start, stop: [tokenize(texts[start:stop])], len(texts),
                     minimum=TOKENIZE_PARALLEL_MIN)
    words = sorted(set().union(*(part[0] for part in parts)))
    number = {word: index for index, word in enumerate(words)}
    term_ids = np.concatenate([np.asarray([number[w] for w in part[0]], dtype=np.int64)[part[1]]
                               if len(part[1]) else part[1].astype(np.int64) for part in parts])
    lengths = [n for part in parts for n in part[2]]
    width = max(1, len(words))
    cells, counts = np.unique(np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
                              * width + term_ids, return_counts=True)
    return WordCounts(tuple(words), cells // width, cells % width, counts, len(texts))


def inverse_frequency(df: Any, texts: int) -> Any:
    """Each word's idf (smooth, as scikit-learn's), 0 above MAX_DF, from its document
    frequency ``df`` among ``texts`` texts."""
    idf = np.log((1.0 + texts) / (1.0 + df)) + 1.0
    idf[df > MAX_DF * texts] = 0.0
    return idf


def weigh(counted: WordCounts) -> Any:
    """The counted texts as L2-normalised TF-IDF rows, float32: a numpy array when it is
    small (DENSE_CELLS), else a scipy CSR matrix. A small digest never imports scipy
    (0.1 s, half of its related-papers time)."""
    rows, cols, counts = counted.rows, counted.cols, counted.counts
    shape = (counted.texts, max(1, len(counted.words)))
    idf = inverse_frequency(np.bincount(cols, minlength=shape[1]), shape[0])
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


def tfidf_rows(texts: list[str]) -> Any:
    """The texts as L2-normalised TF-IDF rows (weigh of count_words)."""
    return weigh(count_words(texts))


def nearest_rows(matrix: Any, take: int) -> tuple[Any, Any]:
    """Every row's neighbours and their scores (Similarity.nearest). The distinct texts
    are ranked in blocks of at most BLOCK_CELLS estimated scores, across workers on a
    large corpus."""
    count = matrix.shape[0]
    similarity = Similarity(matrix)
    step = max(1, BLOCK_CELLS // count)
    starts = range(0, similarity.distinct, step)

    def blocks(first: int, stop: int) -> list[tuple[Any, Any]]:
        return [similarity.ranked(np.arange(start, min(start + step, similarity.distinct)),
                                  take + 1) for start in starts[first:stop]]

    if isinstance(matrix, np.ndarray):
        parts = blocks(0, len(starts))
    else:
        # One BLAS thread per worker: the workers already use every core (threadpoolctl
        # comes with scikit-learn; the limit only saves time, so it may be missing).
        try:
            from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
        except ImportError:
            parts = fork_map(blocks, len(starts), minimum=2)
        else:
            with threadpool_limits(1, user_api="blas"):
                parts = fork_map(blocks, len(starts), minimum=2)
    near = np.concatenate([p[0] for p in parts])[similarity.kind]
    score = np.concatenate([p[1] for p in parts])[similarity.kind]
    return without_self(near, score, np.arange(count), take)


def compute_related(slugs: list[str], texts: list[str], k: int) -> dict[str, list[str]]:
    """Top-k cosine neighbours for each text (slugs sorted, so ties break by slug)."""
    if len(slugs) < 2:
        return {s: [] for s in slugs}
    neighbours, _ = nearest_rows(tfidf_rows(texts), min(k, len(slugs) - 1))
    return {slug: [slugs[j] for j in near if j >= 0]
            for slug, near in zip(slugs, neighbours.tolist(), strict=True)}
