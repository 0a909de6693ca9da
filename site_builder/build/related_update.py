"""Related papers after an edit, from the last computation: exactly what a clean run gives.

In: the cache folder (where the last computation left its state), the site's entries
now, and the slugs whose title or abstract changed. Out: the related-papers map of
the entries now, and the slugs whose related list differs from the last one.

The state (``related-state.npz``, arrays only, read with allow_pickle=False, keyed by
the engine digest and k): every paper's slug and text digest, every text's word counts,
and every paper's neighbours with their exact scores.

Why the result is exact. A paper's TF-IDF row depends on its own words and on the idf of
those words; idf depends on the number of papers and on each word's document frequency.

- A paper added or removed changes the number of papers, so every idf, every row and
  every score moves a little: the ranking is computed again, in full (the clean path;
  neighbours.py keeps it fast). Every day's new papers take this path.
- An edit keeps the number of papers. The rows that change are the edited papers' and
  those of every paper containing a word whose idf changed (a word that entered or left
  some text; a word above the max_df cut on both sides keeps idf 0). Call them D.
  Every other row is bitwise what it was, so a score between two such rows is too (a
  score is defined word by word, neighbours.py). So: a paper in D is ranked again in
  full; a paper whose old list held a paper of D is too (that paper's new score may be
  lower, and the old list does not say who came next); any other paper keeps its old
  list and merges into it the papers of D that now reach its last score. Each step gives
  the clean result, so the whole does.

What it costs: ranking |D| papers against all, plus their readers. A typical one-word
edit (a typo fixed into a word already in the text, or a new word) changes the idf of
at most the two words, and D is the edited paper plus the papers sharing a word that
left or entered it: a handful for a rare word, thousands for a common one (still far
less than the whole, and exact). tests/bench/related_bench.py --edits measures it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from site_builder.build.neighbours import MARGIN, MIN_SIMILARITY, Similarity
from site_builder.build.related import (
    CACHE_VERSION,
    load_related,
    related_file,
    related_file_of,
    related_text,
    save_related,
)
from site_builder.build.tfidf import (
    BLOCK_CELLS,
    WordCounts,
    count_words,
    inverse_frequency,
    nearest_rows,
    tokenize,
    weigh,
)
from site_builder.incremental.engine import engine_digest
from site_builder.site import Entry

STATE_FILE = "related-state.npz"


class State(NamedTuple):
    """What the last computation knew: enough to update it exactly."""

    slugs: list[str]
    texts: list[str]
    """Each paper's text_material, to tell which texts changed."""
    counted: WordCounts
    neighbours: Any
    """papers x take row indexes, best first, -1 where there are fewer."""
    scores: Any
    """Their exact scores (float32)."""
    k: int

    def related(self) -> dict[str, list[str]]:
        return {slug: [self.slugs[j] for j in near if j >= 0]
                for slug, near in zip(self.slugs, self.neighbours.tolist(), strict=True)}


def state_key(k: int) -> str:
    """Which code made a state: a state from other code (or another k) is not used."""
    text = f"{CACHE_VERSION}:{engine_digest()}:{k}".encode()
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def save_state(cache_dir: Path, state: State) -> None:
    counted = state.counted
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / (STATE_FILE + ".tmp")
    with tmp.open("wb") as out:
        np.savez(out, key=np.asarray(state_key(state.k)), k=np.asarray(state.k),
                 slugs=np.asarray(state.slugs, dtype=str),
                 texts=np.asarray(state.texts, dtype=str),
                 words=np.asarray(counted.words, dtype=str),
                 rows=counted.rows.astype(np.int32), cols=counted.cols.astype(np.int32),
                 counts=counted.counts.astype(np.int32),
                 neighbours=state.neighbours.astype(np.int32), scores=state.scores)
    tmp.replace(cache_dir / STATE_FILE)


def load_state(cache_dir: Path, k: int) -> State | None:
    """The last computation's state, or None if there is none usable."""
    try:
        with np.load(cache_dir / STATE_FILE, allow_pickle=False) as saved:
            if str(saved["key"]) != state_key(k):
                return None
            slugs = saved["slugs"].tolist()
            counted = WordCounts(tuple(saved["words"].tolist()),
                                 saved["rows"].astype(np.int64),
                                 saved["cols"].astype(np.int64),
                                 saved["counts"].astype(np.int64), len(slugs))
            return State(slugs, saved["texts"].tolist(), counted,
                         saved["neighbours"].astype(np.int64), saved["scores"], k)
    except (OSError, ValueError, KeyError):
        return None


def compute_state(entries: Sequence[Entry], k: int) -> State:
    """The clean computation, as a state."""
    ordered = sorted(entries, key=lambda e: e.slug)
    counted = count_words([related_text(e) for e in ordered])
    return ranked_state([e.slug for e in ordered], [e.text_material for e in ordered],
                        counted, k, np.arange(len(ordered)), None)


def ranked_state(slugs: list[str], materials: list[str], counted: WordCounts, k: int,
                 redo: Any, old: State | None) -> State:
    """The state of ``ordered``: the rows ``redo`` ranked in full, the others merged
    into ``old``'s lists (see the module docstring)."""
    count = len(slugs)
    take = min(k, count - 1) if count > 1 else 0
    neighbours = np.full((count, take), -1, dtype=np.int64)
    scores = np.zeros((count, take), dtype=np.float32)
    state = State(slugs, materials, counted, neighbours, scores, k)
    if take == 0:
        return state
    matrix = weigh(counted)
    if old is None or len(redo) * 4 > count:  # the parallel clean path is cheaper
        near, score = nearest_rows(matrix, take)
        neighbours[:], scores[:] = near, score
        return state
    similarity = Similarity(matrix)
    neighbours[:], scores[:] = old.neighbours, old.scores
    changed = np.zeros(count, dtype=bool)
    changed[redo] = True
    # Readers of a changed row: their old list no longer says who comes next.
    readers = (~changed) & (changed[np.maximum(old.neighbours, 0)]
                            & (old.neighbours >= 0)).any(axis=1)
    again = np.flatnonzero(changed | readers)
    step = max(1, BLOCK_CELLS // count)
    for start in range(0, len(again), step):
        rows = again[start:start + step]
        neighbours[rows], scores[rows] = similarity.nearest(rows, take)
    merge_changed(similarity, np.asarray(redo), ~(changed | readers), old, neighbours,
                  scores, step)
    return state


def merge_changed(similarity: Similarity, changed: Any, keeps: Any, old: State,
                  neighbours: Any, scores: Any, step: int) -> None:
    """Into the lists of the rows ``keeps`` (old lists free of changed rows), merge the
    ``changed`` rows that now reach them."""
    take = neighbours.shape[1]
    full = old.neighbours[:, take - 1] >= 0
    last = np.where(full, old.scores[:, take - 1], np.float32(MIN_SIMILARITY))
    floor = np.maximum(last.astype(np.float64), MIN_SIMILARITY) - MARGIN
    found: list[tuple[Any, Any]] = []
    for start in range(0, len(changed), step):
        rows = changed[start:start + step]
        estimates = similarity.estimate(rows)
        lines, cols = np.nonzero((estimates >= floor[None, :]) & keeps[None, :])
        found.append((cols, rows[lines]))
    readers = np.concatenate([f[0] for f in found])
    if not len(readers):
        return
    newcomers = np.concatenate([f[1] for f in found])
    exact = similarity.exact(readers, newcomers)
    keep = exact.astype(np.float64) >= MIN_SIMILARITY
    readers, newcomers, exact = readers[keep], newcomers[keep], exact[keep]
    touched = np.unique(readers)
    held = old.neighbours[touched]
    lines = np.repeat(touched, take)[held.ravel() >= 0]
    rows = np.concatenate([lines, readers])
    cols = np.concatenate([held.ravel()[held.ravel() >= 0], newcomers])
    values = np.concatenate([old.scores[touched].ravel()[held.ravel() >= 0], exact])
    order = np.lexsort((cols, -values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    best = rank < take
    neighbours[touched] = -1
    scores[touched] = 0.0
    neighbours[rows[best], rank[best]] = cols[best]
    scores[rows[best], rank[best]] = values[best]


def updated_counts(old: State, texts: list[str], redo: Any) -> WordCounts:
    """count_words of ``old``'s papers with the rows ``redo`` now holding ``texts``
    (related_text of each), recounting only those: the arrays a clean count gives."""
    vocabulary, ids, lengths = tokenize(texts)
    old_words = np.asarray(old.counted.words, dtype=str)
    fresh = np.asarray(vocabulary, dtype=str)
    words = np.union1d(old_words, fresh)
    width = max(1, len(words))
    stays = ~np.isin(old.counted.rows, redo)
    old_cells = (old.counted.rows[stays] * width
                 + np.searchsorted(words, old_words)[old.counted.cols[stays]])
    new_cells, new_counts = np.unique(
        np.repeat(np.asarray(redo, dtype=np.int64), lengths) * width
        + (np.searchsorted(words, fresh)[ids] if len(ids) else ids.astype(np.int64)),
        return_counts=True)
    cells = np.concatenate([old_cells, new_cells])
    counts = np.concatenate([old.counted.counts[stays], new_counts])
    order = np.argsort(cells, kind="stable")
    cells, counts = cells[order], counts[order]
    rows, cols = cells // width, cells % width
    used = np.bincount(cols, minlength=width) > 0  # a word no text has any more goes
    number = np.cumsum(used) - 1
    return WordCounts(tuple(words[used].tolist()), rows, number[cols],
                      counts.astype(np.int64), old.counted.texts)


def idf_changed_rows(old: WordCounts, new: WordCounts) -> Any:
    """The rows (of either count) holding a word whose idf differs between the two."""
    def idf_by_word(counted: WordCounts, words: Any) -> Any:
        df = np.zeros(len(words), dtype=np.int64)
        at = np.searchsorted(words, np.asarray(counted.words, dtype=str))
        df[at] = np.bincount(counted.cols, minlength=len(counted.words))[:len(at)]
        idf = inverse_frequency(df, counted.texts)
        idf[df == 0] = np.nan  # the word is not in this corpus
        return idf, at

    words = np.union1d(np.asarray(old.words, dtype=str), np.asarray(new.words, dtype=str))
    old_idf, old_at = idf_by_word(old, words)
    new_idf, new_at = idf_by_word(new, words)
    moved = ~((old_idf == new_idf) | (np.isnan(old_idf) & np.isnan(new_idf)))
    return np.union1d(old.rows[moved[old_at][old.cols]], new.rows[moved[new_at][new.cols]])


def update_related(cache_dir: Path, entries: Sequence[Entry],
                   changed_slugs: Iterable[str] = (), k: int = 5
                   ) -> tuple[dict[str, list[str]], set[str]]:
    """The related map of ``entries`` and the slugs whose list changed since the state
    in ``cache_dir``; exactly related_map's clean result. Texts are also compared with
    the state's digests, so ``changed_slugs`` may be a superset or empty. With no usable
    state, or papers added or removed, everything is ranked again. Saves the new state
    and the map (where related_map(reuse=True) finds it)."""
    ordered = sorted(entries, key=lambda e: e.slug)
    old = load_state(cache_dir, k)
    if old is None or old.slugs != [e.slug for e in ordered]:
        state = compute_state(ordered, k)
    else:
        hinted = set(changed_slugs)
        redo = np.asarray([i for i, (e, text) in enumerate(zip(ordered, old.texts, strict=True))
                           if e.text_material != text or e.slug in hinted], dtype=np.int64)
        state = updated_state(old, redo, [related_text(ordered[i]) for i in redo], k)
    before = old.related() if old is not None else {}
    result = state.related()
    if state is not old:
        save_state(cache_dir, state)
    cache = cache_dir / related_file(entries, k)
    if load_related(cache) is None:
        save_related(cache, result)
    return result, {slug for slug, near in result.items() if before.get(slug) != near}


def updated_state(old: State, redo: Any, texts: list[str], k: int) -> State:
    """``old`` with the rows ``redo`` now holding ``texts`` (and their text_material
    already in ``old.texts``): exactly the state a clean computation gives."""
    if not len(redo):
        return old
    counted = updated_counts(old, texts, redo)
    moved = np.union1d(redo, idf_changed_rows(old.counted, counted))
    return ranked_state(old.slugs, old.texts, counted, k, moved, old)


def update_edited(cache_dir: Path, before: dict[str, str],
                  edited: dict[str, tuple[str, str]], k: int = 5
                  ) -> tuple[dict[str, list[str]], set[str], str] | None:
    """update_related for an edit of a few papers' texts, knowing only those: ``before``
    every paper's text_material as the last build saw it, ``edited`` by slug its new
    (text_material, related_text). The related map, the slugs whose list changed and
    the name of the map's cache file; None without a state of exactly the papers and
    texts of ``before`` (then the whole Site is built, with every text)."""
    old = load_state(cache_dir, k)
    if old is None or old.slugs != sorted(before) or not set(edited) <= set(before) \
            or any(before[slug] != text for slug, text in zip(old.slugs, old.texts,
                                                              strict=True)):
        return None
    position = {slug: i for i, slug in enumerate(old.slugs)}
    materials = list(old.texts)
    redo = sorted(position[slug] for slug, (material, _) in edited.items()
                  if materials[position[slug]] != material)
    for slug, (material, _) in edited.items():
        materials[position[slug]] = material
    state = updated_state(old._replace(texts=materials), np.asarray(redo, dtype=np.int64),
                          [edited[old.slugs[i]][1] for i in redo], k)
    old_lists, result = old.related(), state.related()
    name = related_file_of(list(zip(state.slugs, state.texts, strict=True)), k)
    if state is not old:
        save_state(cache_dir, state)
    if load_related(cache_dir / name) is None:
        save_related(cache_dir / name, result)
    return result, {slug for slug, near in result.items() if old_lists[slug] != near}, name
