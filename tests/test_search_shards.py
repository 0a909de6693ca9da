"""The sharded search index: an edit re-indexes its shard only, and the result is the
index a clean build makes (build/search.py, build/search_shards.py)."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import site_builder.build.pagefind as pagefind
import site_builder.build.search as search
import site_builder.build.search_shards as shards_module
import site_builder.incremental.sync as sync
from site_builder.build.pipeline import build_site
from site_builder.build.search_shards import MANIFEST, in_shard, plan, shard_count
from tests.conftest import dump_text
from tests.golden_site import files

REAL_INDEXER = pagefind.build_index
REAL_LINK = os.link
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
         "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa")


def entry(number: int) -> str:
    word = WORDS[number % len(WORDS)]
    return (f"Study {number} of {word} tokenizers\n"
            f"We measure {word} tokenizers on data selection benchmark {number}.\n"
            "  • 2 authors\n·\nFeb 6, 2023")


PAPERS = 40


@pytest.fixture
def many(project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project of papers enough to fill 4 shards (of 5 papers and more), search on."""
    from site_builder.config import load_config
    from site_builder.ingest.merge import ingest

    monkeypatch.setattr(shards_module, "PAGES_PER_SHARD", 5)
    monkeypatch.setattr(shards_module, "MAX_SHARDS", 4)
    root = project({"a.txt": dump_text(*(entry(n) for n in range(PAPERS)))},
                   captured={"a.txt": "2025-11-26"})
    config = root / "config.yaml"
    config.write_text(config.read_text().replace("search: false", "search: true"))
    ingest(load_config(config))
    return root


def build(root: Path, out: str = "_site", **kw: object) -> Path:
    build_site(root / "config.yaml", root / out, **kw)  # type: ignore[arg-type]
    return root / out


def paper_file(root: Path, number: int) -> Path:
    (found,) = [p for p in (root / "content/papers").glob("*.md")
                if p.read_text().count(f"title: Study {number} of ")]
    return found


def shard_of_paper(path: Path) -> str:
    papers = path.parent.glob("*.md")
    _, shards = plan(f"papers/{p.stem}/index.html" for p in papers
                     if "hidden: true" not in p.read_text())
    (name,) = [n for n, pages in shards.items() if f"papers/{path.stem}/index.html" in pages]
    return name


def published(out: Path) -> dict[str, str]:
    """The published shards (name -> key), as the next build reads them."""
    manifest = json.loads((out / "pagefind" / MANIFEST).read_text())
    return shards_module.read_manifest(out / "pagefind", manifest["scheme"])


def spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The shards indexed from now on (by folder name), the real indexer still running."""
    indexed: list[str] = []
    real = pagefind.build_index

    def recording(pages: list[tuple[str, bytes]], into: Path) -> None:
        indexed.append(into.name)
        real(pages, into)

    monkeypatch.setattr(pagefind, "build_index", recording)
    return indexed


def edit_abstract(path: Path, words: str) -> None:
    path.write_text(path.read_text() + f"\n{words}\n")


def test_papers_are_spread_over_the_shards(many: Path) -> None:
    out = build(many)
    shards = published(out)
    assert len(shards) == shard_count(PAPERS) > 1
    manifest = json.loads((out / "pagefind" / MANIFEST).read_text())
    assert [s["path"] for s in manifest["shards"]] == [f"{name}/" for name in sorted(shards)]
    counts = {name: json.loads((out / "pagefind" / name / "pagefind-entry.json").read_text())
              ["languages"]["en"]["page_count"] for name in shards}
    assert sum(counts.values()) == PAPERS
    # The UI is published once, beside the shards, not in each of them.
    assert (out / "pagefind" / "pagefind-ui.js").is_file()
    assert not [rel for rel in files(out / "pagefind") if rel.count("/") == 1
                and not in_shard(rel.split("/", 1)[1])]


def test_an_abstract_edit_reindexes_only_its_shard(many: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    before = files(build(many) / "pagefind")
    paper = paper_file(many, 7)
    shard = shard_of_paper(paper)
    edit_abstract(paper, "A sentence about frobnication.")
    indexed = spy(monkeypatch)
    after = files(build(many) / "pagefind")
    assert indexed == [shard]
    changed = {rel.split("/")[0] for rel in set(before) | set(after)
               if before.get(rel) != after.get(rel)}
    assert changed == {shard, MANIFEST}
    monkeypatch.setattr(pagefind, "build_index", REAL_INDEXER)
    assert after == files(build(many, "clean", clean=True) / "pagefind")


def test_unchanged_shards_are_carried_over_not_rewritten(many: Path) -> None:
    out = build(many)
    paper = paper_file(many, 3)
    kept = sorted(set(published(out)) - {shard_of_paper(paper)})[0]
    entry_file = out / "pagefind" / kept / "pagefind-entry.json"
    inode = entry_file.stat().st_ino
    edit_abstract(paper, "More words.")
    build(many)
    assert entry_file.stat().st_ino == inode  # the same file, linked, not a new copy


def test_adding_and_removing_papers_matches_a_clean_build(many: Path) -> None:
    build(many)
    dump = many / "content/dumps/a.txt"
    dump.write_text(dump_text(*(entry(n) for n in range(45))))
    from site_builder.config import load_config
    from site_builder.ingest.merge import ingest

    ingest(load_config(many / "config.yaml"))
    assert files(build(many) / "pagefind") == \
        files(build(many, "clean", clean=True) / "pagefind")
    # Every paper of one shard gone: the shard leaves the index and its manifest.
    gone = shard_of_paper(paper_file(many, 0))
    for path in sorted((many / "content/papers").glob("*.md")):
        if shard_of_paper(path) == gone:
            path.write_text(path.read_text().replace("hidden: false", "hidden: true"))
    site = files(build(many) / "pagefind")
    assert gone not in published(many / "_site")
    assert not [rel for rel in site if rel.startswith(f"{gone}/")]
    assert site == files(build(many, "clean2", clean=True) / "pagefind")


def test_a_change_of_shard_count_makes_the_index_of_a_clean_build(many: Path) -> None:
    assert len(published(build(many))) == 4
    for number in range(15, PAPERS):  # 15 papers left: 3 shards of 5
        path = paper_file(many, number)
        path.write_text(path.read_text().replace("hidden: false", "hidden: true"))
    site = files(build(many) / "pagefind")
    assert list(published(many / "_site")) == ["shard-00", "shard-01", "shard-02"]
    assert not [rel for rel in site if rel.startswith("shard-03/")]
    assert site == files(build(many, "clean", clean=True) / "pagefind")


def test_a_small_site_is_one_shard(many: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shards_module, "PAGES_PER_SHARD", 600)
    out = build(many)
    assert list(published(out)) == ["shard-00"]


def test_an_index_left_for_later_reindexes_only_the_edited_shard(
        many: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview server's order: pages first (index_search=False), the index next."""
    build(many)
    paper = paper_file(many, 11)
    edit_abstract(paper, "Preview edit.")
    indexed = spy(monkeypatch)
    build(many, index_search=False)
    assert indexed == []
    build(many)
    assert indexed == [shard_of_paper(paper)]


def test_a_failing_shard_stops_the_others_and_replaces_nothing(
        many: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = files(build(many))
    for number in range(0, 40, 5):  # edits in several shards: several indexers at once
        edit_abstract(paper_file(many, number), f"Edit {number}.")
    real = pagefind.build_index
    started: list[str] = []

    def some_fail(pages: list[tuple[str, bytes]], into: Path) -> None:
        started.append(into.name)
        if len(started) == 1:
            raise search.BuildError("pagefind", None, "indexing failed: panicked")
        real(pages, into)

    monkeypatch.setattr(pagefind, "build_index", some_fail)
    with pytest.raises(search.BuildError, match="panicked"):
        build(many)
    assert files(many / "_site") == before
    monkeypatch.setattr(pagefind, "build_index", REAL_INDEXER)
    assert files(build(many)) == files(build(many, "clean", clean=True))


def fragments(shard: Path) -> list[dict[str, object]]:
    """The pages a shard holds, as Pagefind stores them (gzip, after a signature)."""
    found = []
    for path in sorted((shard / "fragment").glob("*.pf_fragment")):
        data = gzip.decompress(path.read_bytes())
        found.append(json.loads(data[data.index(b"{"):]))
    return found


def test_only_what_a_reader_searches_is_indexed(many: Path) -> None:
    out = build(many)
    paper = paper_file(many, 5)
    text = paper.read_text()
    paper.write_text(text.replace("tags: []", "tags: [curated-tag]")
                     .replace("note: ''", "note: 'A curator remark.'"))
    out = build(many)
    page = (out / "papers" / paper.stem / "index.html").read_text()
    assert "Cite" in page and "Find this paper" in page and "Related papers" in page
    (content,) = [f["content"] for f in fragments(out / "pagefind" / shard_of_paper(paper))
                  if f["url"] == f"/papers/{paper.stem}/"]
    assert isinstance(content, str)
    for shown in ("Study 5 of foxtrot tokenizers", "We measure foxtrot tokenizers",
                  "Data selection", "curated-tag", "A curator remark."):
        assert shown in content, shown
    for left_out in ("Find this paper", "Cite", "BibTeX", "Published", "Related papers",
                     "Abstract", "2 authors", "a.txt"):
        assert left_out not in content, left_out


def test_hard_links_refused_fall_back_to_copies(many: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    build(many)
    edit_abstract(paper_file(many, 2), "No links here.")

    def refuse(src: object, dst: object) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", refuse)
    site = files(build(many) / "pagefind")
    monkeypatch.setattr(os, "link", REAL_LINK)
    assert site == files(build(many, "clean", clean=True) / "pagefind")


def test_an_edit_reads_only_the_pages_it_changed_and_its_shard(
        many: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(many)
    paper = paper_file(many, 9)
    edit_abstract(paper, "Read less.")
    read: list[str] = []
    real = sync.OutputRecord.current_bytes

    def counting(self: sync.OutputRecord, rel: str) -> bytes:
        read.append(rel)
        return real(self, rel)

    monkeypatch.setattr(sync.OutputRecord, "current_bytes", counting)
    out = build(many)
    _, shards = plan(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    own = set(shards[shard_of_paper(paper)])
    others = set(read) - own
    # Beyond its own shard, only the pages whose related cards show the edited paper.
    assert f"papers/{paper.stem}/index.html" in read
    assert all(f"/papers/{paper.stem}/" in (out / rel).read_text() for rel in others)
    assert len(set(read)) < PAPERS // 2


def test_a_broken_page_digest_cache_is_ignored(many: Path) -> None:
    build(many)
    (cache,) = many.glob("._site.search-pages.json")
    cache.write_text("{not json")
    edit_abstract(paper_file(many, 4), "Cache gone.")
    assert files(build(many) / "pagefind") == \
        files(build(many, "clean", clean=True) / "pagefind")
