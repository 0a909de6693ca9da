"""Related papers: the most similar abstracts by TF-IDF cosine, cached.

In: the site's entries (slug, title, abstract) and a cache folder. Out: for every
slug, up to ``k`` other slugs, most similar first, ties broken by slug.

The result depends on the whole corpus (idf weights), so it is cached under a key of
every paper's text: edits to notes, tags or templates reuse it, and this module then
needs no numpy. Computing it (tfidf.py, neighbours.py) and updating it after an edit
(related_update.py, from the state a computation leaves in the cache folder) are
numpy's part, imported only when the cache misses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from site_builder.incremental.engine import engine_digest
from site_builder.site import Entry

CACHE_VERSION = "related-v3"


def corpus_key(entries: Sequence[Entry], k: int) -> str:
    """A digest of every entry's slug, title and abstract (each entry's text_material,
    digested once per file), in slug order, and of the code and libraries (engine.py)."""
    return texts_key([(e.slug, e.text_material) for e in entries], k)


def texts_key(texts: Sequence[tuple[str, str]], k: int) -> str:
    """corpus_key of the papers' (slug, text_material)."""
    digest = hashlib.blake2b(f"{CACHE_VERSION}:{engine_digest()}:{k}".encode(),
                             digest_size=16)
    digest.update("\0".join(sorted(f"{slug}\0{text}" for slug, text in texts)).encode())
    return digest.hexdigest()


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


def related_file_of(texts: Sequence[tuple[str, str]], k: int = 5) -> str:
    """related_file of the papers' (slug, text_material)."""
    return f"related-{texts_key(texts, k)}.json"


def related_text(entry: Entry) -> str:
    """What related papers compare of a paper: its title (twice: it says the most), then
    its abstract."""
    return f"{entry.paper.title}\n{entry.paper.title}\n{entry.paper.abstract}"


def save_related(cache: Path, result: dict[str, list[str]]) -> None:
    """Cache ``result`` as the related-papers map of its corpus (the only one kept)."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    for old in cache.parent.glob("related-*.json"):
        old.unlink()
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, sort_keys=True), encoding="utf-8")
    tmp.replace(cache)


def related_map(entries: Sequence[Entry], cache_dir: Path | None, k: int = 5,
                reuse: bool = True) -> dict[str, list[str]]:
    """Related slugs per slug; ``reuse=False`` (a clean build) recomputes, then caches
    the map and the state update_related starts from (related_update.py)."""
    cache = cache_dir / related_file(entries, k) if cache_dir else None
    loaded = load_related(cache) if reuse and cache is not None else None
    if loaded is not None:
        return loaded
    # Where numpy enters a build: only when the related papers must be computed.
    from site_builder.build.related_update import compute_state, save_state

    state = compute_state(entries, k)
    result = state.related()
    if cache_dir is not None and cache is not None:  # (the one implies the other)
        save_state(cache_dir, state)
        save_related(cache, result)
    return result
