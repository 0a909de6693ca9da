"""The dependency index: which outputs read which papers, and what they read of them.

In: the jobs of a build (each says which entries it shows, and how to make it again)
and the records of its entries. Out: a sealed pickle beside the output folder that the
next build reads to plan an edit of a few papers without assembling the whole Site.

Per paper, the index keeps one digest per way an output can read it (PaperRecord):
where it is listed (``place``), its card, its feed item, its BibTeX entry and the text
related papers compare. Each digest is made by the same function the outputs'
fingerprints are made of (Entry.card_key, feeds.feed_item_key, bibtex.bib_item_key),
so there is no second list of what a page shows. Per listing, feed and theme .bib file
it keeps a spec: what the renderer needs to make that one job again from the entries
it names (a listing's view without its cards, a feed's section and entries...). A
paper's own page and .bib are not in it: the pages that show a paper's card are those
whose related list holds it (the related map), and the rest follows from the slug.

An edit whose papers keep their place (same listings, same order, same counts) then
reaches exactly the outputs that read a record that changed: the planner re-makes those
jobs, fingerprints them as a full build does, and renders the ones that differ
(build/scoped.py). An edit that moves a paper (a new place) plans, besides, every
output but the papers' own (``site_outputs``). Anything else (a paper added or removed,
a pin, any other input) plans the whole Site.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from site_builder.incremental.cache import RACY_NS
from site_builder.incremental.sealed import seal, unseal

INDEX_VERSION = 9
KINDS = ("card", "feed", "bib")
"""The ways an output other than a paper's own page reads a paper (PaperRecord's)."""

FileEntry = tuple[int, int, str]
"""An entry file's size, mtime (0 if it was too recent to trust) and key."""
Spec = tuple[Any, ...]
"""How to make one job again: ("listing", template, url path, view without cards,
{list name: slugs}), ("paper", slug), ("feed", section, title, subtitle, slugs) or
("bib", path, slugs)."""


class PaperRecord(NamedTuple):
    place: str
    """Where the paper is listed and in what order: what the Site's grouping, sorting,
    counts and statistics read of it (place_key)."""
    card: str
    feed: str
    bib: str
    text: str
    """What related papers compare (Entry.text_material)."""
    entry: str
    """A digest of the entry's key (Entry.key: its file's key, themes, tags and date),
    which every field above is a function of: under the same engine, an entry with the
    same key has the same record (a whole build takes it from the last index)."""


@dataclass
class Dependencies:
    """Which outputs read which papers: read only when an edit reaches beyond a paper's
    own page (a note edit does not), so it lives in a file of its own."""

    reads: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """By slug, by kind: the outputs (their first path) that read that record of it."""
    specs: dict[str, Spec] = field(default_factory=dict)
    """By output (first path): how to make its job again."""

    def add_job(self, output: str, spec: Spec, reads: dict[str, tuple[str, ...]]) -> None:
        """Record a job that shows other papers: ``reads`` by kind, the slugs it reads."""
        self.specs[output] = spec
        for kind, slugs in reads.items():
            for slug in slugs:
                self.reads.setdefault(slug, {}).setdefault(kind, []).append(output)

    def replace(self, outputs: set[str], new: Dependencies) -> None:
        """Forget the jobs of ``outputs``, then take those ``new`` records."""
        for output in outputs:
            self.specs.pop(output, None)
        for by_kind in self.reads.values():
            for kind, readers in by_kind.items():
                by_kind[kind] = [r for r in readers if r not in outputs]
        self.specs.update(new.specs)
        for slug, by_kind in new.reads.items():
            mine = self.reads.setdefault(slug, {})
            for kind, readers in by_kind.items():
                mine.setdefault(kind, []).extend(readers)


@dataclass
class DepIndex:
    stamp: str = ""
    related: str = ""
    """The related-papers cache file the build used."""
    files: dict[str, FileEntry] = field(default_factory=dict)
    papers: dict[str, PaperRecord | None] = field(default_factory=dict)
    """By slug (None: hidden, shown nowhere)."""
    deps_id: str = ""
    """Names the Dependencies that go with it (the stamp of the build that made them)."""
    model_decides: bool = True
    """Some visible paper's themes are the learned model's to decide (not fixed by its
    pins): then a pin or a pinned paper's text, what the model learns from, may change
    any paper's themes."""
    engine: str = ""
    """The engine digest of the build that made the records (engine.py)."""
    site_outputs: set[str] = field(default_factory=set)
    """Every output but the papers' own pages and .bib files: listings, feeds, theme
    .bib files, the sitemap, static files. An edit that moves a paper plans them all."""
    paper_salts: tuple[str, str] = ("", "")
    """The salts the papers' own outputs were fingerprinted with (their page template's,
    and the base one their .bib files take): with the records, what says a whole build
    that their fingerprints are as recorded (plan.kept_paper_outputs)."""

    # Pickled as columns and joined strings: 20,000 NamedTuple records took 81 ms to
    # pickle and 45 to load (a Python call each way per record), the file entries 29
    # to load; every whole build writes the index and reads the last one.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["papers"] = {slug: None if rec is None else _SEP.join(rec)
                           for slug, rec in self.papers.items()}
        names = list(self.files)
        state["files"] = (names, [self.files[n][0] for n in names],
                          [self.files[n][1] for n in names], [self.files[n][2] for n in names])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        names, sizes, mtimes, keys = state["files"]
        state["files"] = dict(zip(names, zip(sizes, mtimes, keys, strict=True), strict=True))
        make = PaperRecord._make  # refuses a record of the wrong length (no index)
        state["papers"] = {slug: None if packed is None else make(packed.split(_SEP))
                           for slug, packed in state["papers"].items()}
        self.__dict__.update(state)


_SEP = "\x1f"
"""Between a record's fields, each a hex digest."""


def file_entry(stat: tuple[int, int], key: str) -> FileEntry:
    """A stat recorded too recently may be followed by an edit of the same size within
    the mtime's resolution (git's racily clean case): it is not trusted next time."""
    settled = stat[1] < time.time_ns() - RACY_NS
    return (stat[0], stat[1] if settled else 0, key)


def index_path(out: Path) -> Path:
    return out.parent / f".{out.name}.build-index.pickle"


def deps_path(out: Path) -> Path:
    return out.parent / f".{out.name}.build-deps.pickle"


def write_index(out: Path, index: DepIndex, deps: Dependencies | None) -> None:
    """Under the stamp of the build record it goes with (a record and an index from
    different builds never go together); sealed like the caches (sealed.py).
    ``deps``: None keeps the Dependencies file as it is (index.deps_id names it)."""
    if deps is not None:
        _write(deps_path(out), {"version": INDEX_VERSION, "id": index.deps_id, "deps": deps})
    _write(index_path(out), {"version": INDEX_VERSION, "index": index})


def read_index(out: Path, stamp: str) -> DepIndex | None:
    """The index the build of ``stamp`` left, or None (only costs a full plan)."""
    data = _read(index_path(out))
    index = data.get("index") if data else None
    return index if isinstance(index, DepIndex) and index.stamp == stamp else None


def read_dependencies(out: Path, index: DepIndex) -> Dependencies | None:
    data = _read(deps_path(out))
    deps = data.get("deps") if data and data.get("id") == index.deps_id else None
    return deps if isinstance(deps, Dependencies) else None


def _write(path: Path, value: dict[str, Any]) -> None:
    data = seal(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    if data is None:
        path.unlink(missing_ok=True)  # no key: every build plans the whole Site
        return
    fd, tmp = tempfile.mkstemp(prefix=".index-", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _read(path: Path) -> dict[str, Any] | None:
    try:  # unpickled only under this machine's seal: a planted file must not run code
        blob = unseal(path.read_bytes())
        data: Any = pickle.loads(blob) if blob is not None else None
    except Exception:
        return None
    return data if isinstance(data, dict) and data.get("version") == INDEX_VERSION else None
