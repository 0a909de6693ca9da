"""Related papers: the most similar abstracts by TF-IDF cosine (scikit-learn).

In: the site's entries (slug, title, abstract) and a cache folder. Out: for every
slug, up to ``k`` other slugs, most similar first, ties broken by slug.

The result depends on the whole corpus (idf weights), so it is cached under a key of
every paper's text: edits to titles' neighbours, notes, tags or templates reuse it,
and scikit-learn is imported only when the corpus really changed. Similarities are
computed in row blocks so memory stays bounded at 50,000 papers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from site_builder.site import Entry

BLOCK_ROWS = 128
MIN_SIMILARITY = 0.05
CACHE_VERSION = "related-v1"


def corpus_key(entries: Sequence[Entry], k: int) -> str:
    digest = hashlib.blake2b(f"{CACHE_VERSION}:{k}".encode(), digest_size=16)
    for entry in sorted(entries, key=lambda e: e.slug):
        digest.update(f"\0{entry.slug}\0{entry.paper.title}\0{entry.paper.abstract}".encode())
    return digest.hexdigest()


def compute_related(slugs: list[str], texts: list[str], k: int) -> dict[str, list[str]]:
    """Top-k cosine neighbours for each text (slugs sorted, so ties break by slug)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(slugs) < 2:
        return {s: [] for s in slugs}
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, max_df=0.5,
                                 dtype=np.float32, token_pattern=r"(?u)\b[a-zA-Z][\w-]+\b")
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # every text empty after stop words
        return {s: [] for s in slugs}
    transposed = matrix.T.tocsr()
    related: dict[str, list[str]] = {}
    take = min(k, len(slugs) - 1)
    for start in range(0, len(slugs), BLOCK_ROWS):
        block = (matrix[start:start + BLOCK_ROWS] @ transposed).toarray()
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = -1.0  # never related to itself
        # Round away float noise so order depends on the text, then the slug index.
        block = np.round(block, 6)
        for row in rows:
            scores = block[row]
            candidates = np.argpartition(-scores, take - 1)[:take * 4 + 8]
            best = sorted(candidates.tolist(), key=lambda j: (-scores[j], j))[:take]
            related[slugs[start + row]] = [slugs[j] for j in best
                                           if scores[j] >= MIN_SIMILARITY]
    return related


def related_map(entries: Sequence[Entry], cache_dir: Path | None, k: int = 5,
                reuse: bool = True) -> dict[str, list[str]]:
    """Related slugs per slug; ``reuse=False`` (a clean build) recomputes, then caches."""
    key = corpus_key(entries, k)
    cache = cache_dir / f"related-{key}.json" if cache_dir else None
    if reuse and cache is not None and cache.exists():
        loaded: dict[str, list[str]] = json.loads(cache.read_text(encoding="utf-8"))
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
