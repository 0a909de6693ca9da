"""BuildCache: what is saved loads back equal, and only what the build used is kept."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import pytest

from site_builder.errors import Diagnostic
from site_builder.incremental import cache as cache_module
from site_builder.incremental.cache import (
    MAX_SHARDS,
    BuildCache,
    ParsedFile,
    digest,
    shard_count,
)
from site_builder.models import Classification, Paper, SourceRef


def a_paper() -> Paper:
    """Every field away from its default, so a field the cache forgot shows up."""
    return Paper(id="6c829069-18f6-55d0-8f7b-17e852fba6bc", slug="a-paper", title="A: paper",
                 abstract="Text <b>", published=dt.date(2024, 2, 29), authors=3,
                 submitter="someone", comments=4,
                 sources=(SourceRef("000.txt", 12), SourceRef("003.txt", 7)),
                 tags=("Curated Tag",), themes=("long-context",), not_themes=("datasets",),
                 note="A note.",
                 featured=True, hidden=True)


def test_every_field_survives_a_save_and_load(tmp_path: Path) -> None:
    paper = a_paper()
    defaults = Paper(id="", slug="", title="", abstract="", published=None, authors=None,
                     submitter=None, comments=None, sources=())
    differing = {f.name for f in dataclasses.fields(Paper)
                 if getattr(paper, f.name) != getattr(defaults, f.name)}
    assert differing == {f.name for f in dataclasses.fields(Paper)}
    found = (Diagnostic("content/papers/a-paper.md", 3, "unknown field 'x' ignored"),)
    classes = Classification(("long-context",), ("curated-tag",), (("long-context", 2.5),))
    cache = BuildCache()
    parsed = ParsedFile(paper, found, ("h1",), "m1", "Text <b>", "c1", "t1")
    cache.papers["k"] = parsed
    cache.classes["c"] = classes
    cache.html["h1"] = "<p>Text</p>\n"
    cache.stats["a-paper.md"] = (10, time.time_ns() - 10**10, "k")
    cache.checked_rules, cache.dirty = "rules", True
    path = tmp_path / "entries.pickle"
    cache.save(path, {"k"}, {"c"}, {"h1"})
    loaded = BuildCache.load(path)
    assert loaded.papers == {"k": parsed}
    assert isinstance(loaded.papers["k"], ParsedFile)
    assert loaded.classes == {"c": classes}
    assert loaded.html == cache.html and loaded.stats == cache.stats
    assert loaded.checked_rules == "rules"


def test_only_what_the_build_used_is_kept_and_recent_stats_are_not_trusted(
        tmp_path: Path) -> None:
    cache = BuildCache(dirty=True)
    cache.papers = {"old": ParsedFile(a_paper(), (), (), "", "", "", ""),
                    "new": ParsedFile(a_paper(), (), (), "", "", "", "")}
    cache.html = {digest("x"): "x", digest("y"): "y"}
    cache.stats = {"settled.md": (1, time.time_ns() - 10**10, "new"),
                   "just-written.md": (1, time.time_ns(), "new")}
    path = tmp_path / "entries.pickle"
    cache.save(path, {"new"}, set(), {digest("y")})
    loaded = BuildCache.load(path)
    assert set(loaded.papers) == {"new"} and set(loaded.html) == {digest("y")}
    assert set(loaded.stats) == {"settled.md"}  # modified < 2 s ago: read it again


@pytest.fixture
def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four papers a shard, so a few hundred keys fill every one of MAX_SHARDS."""
    monkeypatch.setattr(cache_module, "PAPERS_PER_SHARD", 4)


def test_an_unreadable_cache_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "entries.pickle"
    path.write_bytes(b"not a pickle")
    assert BuildCache.load(path).papers == {}


@pytest.mark.usefixtures("small_shards")
def test_a_one_paper_change_rewrites_one_shard_and_a_lost_shard_costs_only_its_papers(
        tmp_path: Path) -> None:
    path = tmp_path / "entries.pickle"
    cache = BuildCache(dirty=True)
    keys = [digest(str(n)) for n in range(4 * MAX_SHARDS)]
    cache.papers = {k: ParsedFile(a_paper(), (), (), "", "", "", "") for k in keys}
    cache.save(path, set(keys), set(), set())
    shards = sorted(tmp_path.glob("entries-papers-*.pickle"))
    assert len(shards) == MAX_SHARDS
    before = {p: p.stat().st_mtime_ns for p in shards}
    time.sleep(0.01)

    loaded = BuildCache.load(path)
    assert set(loaded.papers) == set(keys)
    edited = digest("edited")
    loaded.papers[edited] = ParsedFile(a_paper(), (), (), "", "", "", "")
    loaded.dirty = True
    loaded.save(path, (set(keys) - {keys[0]}) | {edited}, set(), set())
    changed = {p for p in shards if p.stat().st_mtime_ns != before[p]}
    assert 1 <= len(changed) <= 2  # the edited paper's shard, and the old version's
    assert set(BuildCache.load(path).papers) == (set(keys) - {keys[0]}) | {edited}

    changed.pop().unlink()
    partial = BuildCache.load(path).papers
    assert partial and set(partial) < (set(keys) - {keys[0]}) | {edited}


@pytest.mark.usefixtures("small_shards")
def test_papers_spread_over_every_shard(tmp_path: Path) -> None:
    path = tmp_path / "entries.pickle"
    cache = BuildCache(dirty=True)
    keys = [digest(str(n)) for n in range(100 * MAX_SHARDS)]
    cache.papers = {k: ParsedFile(a_paper(), (), (), "", "", "", "") for k in keys}
    cache.save(path, set(keys), set(), set())
    counts = []
    for shard in sorted(tmp_path.glob("entries-papers-*.pickle")):
        alone = BuildCache(path=path, unloaded=set(), shards=MAX_SHARDS)
        alone._load_shard(int(shard.stem.rsplit("-", 1)[1], 16))
        counts.append(len(alone.papers))
    # 100 a shard on average: none empty, none holding two shards' share
    assert len(counts) == MAX_SHARDS and min(counts) > 50 and max(counts) < 150, counts


@pytest.mark.usefixtures("small_shards")
def test_a_scoped_rebuild_reads_and_rewrites_only_the_meta_shards_it_touches(
        tmp_path: Path) -> None:
    """Stats, classifications and Markdown sit in meta shards read on first use: one
    key asked for reads one shard, one key stored rewrites one shard, and the rest
    loads back as it was."""
    path = tmp_path / "entries.pickle"
    cache = BuildCache(dirty=True)
    keys = [digest(str(n)) for n in range(4 * MAX_SHARDS)]
    settled = time.time_ns() - 10**10
    cache.classes = {k: Classification((f"theme-{k[:4]}",), (), ()) for k in keys}
    cache.html = {k: f"<p>{k}</p>\n" for k in keys}
    cache.stats = {f"paper-{n}.md": (n, settled, k) for n, k in enumerate(keys)}
    cache.papers = {k: ParsedFile(a_paper(), (), (), "", "", "", "") for k in keys}
    cache.save(path, set(keys), set(keys), set(keys))
    metas = sorted(tmp_path.glob("entries-meta-*.pickle"))
    assert len(metas) == MAX_SHARDS

    lazy = BuildCache.load(path, shards=False)
    assert len(lazy.meta_unloaded) == MAX_SHARDS
    assert lazy.classes.get(keys[0]) == cache.classes[keys[0]]
    assert len(lazy.meta_unloaded) == MAX_SHARDS - 1  # the shard of keys[0] only
    assert keys[1] in lazy.html and lazy.stats["paper-2.md"] == cache.stats["paper-2.md"]

    before = {p: p.stat().st_mtime_ns for p in metas}
    time.sleep(0.01)
    added = digest("a new note")
    lazy.html[added] = "<p>New.</p>\n"
    lazy.dirty = True
    lazy.save(path, None, None, None)
    changed = [p for p in metas if p.stat().st_mtime_ns != before[p]]
    assert changed == [tmp_path / f"entries-meta-{int(added[:2], 16) % MAX_SHARDS:02x}.pickle"]

    whole = BuildCache.load(path)
    assert whole.classes == cache.classes and whole.stats == cache.stats
    assert whole.html == {**cache.html, added: "<p>New.</p>\n"}

    changed[0].unlink()  # a lost shard costs its entries only
    partial = BuildCache.load(path)
    assert partial.classes and len(partial.classes) < len(keys)


def test_shard_files_of_another_layout_are_removed_by_a_whole_save(tmp_path: Path) -> None:
    path = tmp_path / "entries.pickle"
    stale = [tmp_path / "entries-papers-f.pickle", tmp_path / "entries-meta-fff.pickle"]
    for old in stale:
        old.write_bytes(b"an older version's shard")
    cache = BuildCache(dirty=True)
    cache.papers = {digest("k"): ParsedFile(a_paper(), (), (), "", "", "", "")}
    cache.save(path, {digest("k")}, set(), set())
    assert not any(old.exists() for old in stale)
    assert len(list(tmp_path.glob("entries-papers-*.pickle"))) == shard_count(1) == 1


def test_the_layout_follows_the_papers_of_a_whole_build(tmp_path: Path) -> None:
    """About PAPERS_PER_SHARD papers a shard: a whole build lays the cache out for its
    papers (files of the old layout go), a scoped one keeps the layout it read."""
    assert [shard_count(n) for n in (0, 1, 300, 301, 423, 5000, 20000, 10**6)] == \
        [1, 1, 1, 2, 2, 32, 64, 64]
    path = tmp_path / "entries.pickle"
    few = [digest(str(n)) for n in range(423)]
    cache = BuildCache(dirty=True)
    cache.papers = {k: ParsedFile(a_paper(), (), (), "", "", "", "") for k in few}
    cache.html = {k: f"<p>{k}</p>" for k in few}
    cache.save(path, set(few), set(), set(few))
    assert len(list(tmp_path.glob("entries-papers-*.pickle"))) == 2
    assert len(list(tmp_path.glob("entries-meta-*.pickle"))) == 2

    many = [digest(str(n)) for n in range(5000)]
    grown = BuildCache.load(path)
    assert grown.shards == 2 and set(grown.papers) == set(few)
    grown.papers.update({k: ParsedFile(a_paper(), (), (), "", "", "", "") for k in many})
    grown.dirty = True
    grown.save(path, set(many), set(), set(few))
    assert len(list(tmp_path.glob("entries-papers-*.pickle"))) == 32
    assert len(list(tmp_path.glob("entries-meta-*.pickle"))) == 32
    again = BuildCache.load(path)
    assert again.shards == 32 and set(again.papers) == set(many)
    assert again.html == {k: f"<p>{k}</p>" for k in few}

    scoped = BuildCache.load(path, shards=False)
    scoped.add(digest("one more"), ParsedFile(a_paper(), (), (), "", "", "", ""))
    scoped.save(path, None, None, None)
    after = BuildCache.load(path)
    assert after.shards == 32 and set(after.papers) == set(many) | {digest("one more")}
