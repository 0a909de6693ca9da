"""The search index is part of the build's all-or-nothing commit (build/search.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import site_builder.build.pagefind as pagefind
import site_builder.incremental.sync as sync
from site_builder.build.pipeline import build_site
from site_builder.build.search_shards import in_shard, plan, read_manifest, searched_part
from site_builder.errors import BuildError
from tests.conftest import REPO
from tests.golden_site import files


@pytest.fixture
def digest(two_paper_project: Path) -> Path:
    config = two_paper_project / "config.yaml"
    config.write_text(config.read_text().replace("search: false", "search: true"))
    return two_paper_project


def build(root: Path, out: str = "_site", **kw: object) -> Path:
    build_site(root / "config.yaml", root / out, **kw)  # type: ignore[arg-type]
    return root / out


def retitle(root: Path) -> None:
    path = root / "content/papers/long-context-windows.md"
    path.write_text(path.read_text().replace("title: Long-context windows",
                                             "title: Long-context windows, revised"))


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
            if p.is_file()}


def test_a_failing_indexer_replaces_nothing(digest: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(build(digest))
    assert "pagefind/shards.json" in before
    retitle(digest)

    def fail(pages: object, into: Path) -> None:
        into.mkdir(parents=True)
        (into / "half-written.pf_index").write_bytes(b"x")
        raise BuildError("pagefind", None, "indexing failed: panicked")

    monkeypatch.setattr(pagefind, "build_index", fail)
    with pytest.raises(BuildError, match="panicked"):
        build(digest)
    assert snapshot(digest / "_site") == before  # not one page replaced before the index
    monkeypatch.undo()
    assert snapshot(build(digest)) == snapshot(build(digest, "clean", clean=True))


def test_a_build_killed_while_indexing_indexes_again(digest: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    build(digest)
    retitle(digest)

    def killed(pages: object, into: Path) -> None:
        into.mkdir(parents=True)
        raise KeyboardInterrupt("Ctrl-C while indexing")

    monkeypatch.setattr(pagefind, "build_index", killed)
    with pytest.raises(KeyboardInterrupt):
        build(digest)
    monkeypatch.undo()
    site = snapshot(build(digest))  # used to say "up to date" and keep the stale index
    assert site == snapshot(build(digest, "clean", clean=True))
    assert not [p for p in site if p.startswith(".pagefind")]


def test_a_kill_between_page_moves_and_the_index_swap(digest: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    build(digest)
    retitle(digest)
    real = sync.OutputRecord._swap_search

    def crash(self: sync.OutputRecord, value: str | None) -> None:
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(sync.OutputRecord, "_swap_search", crash)
    with pytest.raises(KeyboardInterrupt):
        build(digest)
    monkeypatch.setattr(sync.OutputRecord, "_swap_search", real)
    assert snapshot(build(digest)) == snapshot(build(digest, "clean", clean=True))


def test_the_index_does_not_depend_on_the_order_pages_come_in(tmp_path: Path,
                                                               digest: Path) -> None:
    out = build(digest)
    scheme, shards = plan(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    shard = sorted(read_manifest(out / "pagefind", scheme))[0]
    pages = [(path, (out / path).read_bytes()) for path in shards[shard]][::-1]
    assert pages
    pagefind.build_index(pages, tmp_path / "forward")
    pagefind.build_index(pages[::-1], tmp_path / "backward")
    assert files(tmp_path / "forward") == files(tmp_path / "backward")
    published = files(out / "pagefind")
    assert {rel: data for rel, data in files(tmp_path / "forward").items() if in_shard(rel)} \
        == {rel.removeprefix(f"{shard}/"): data for rel, data in published.items()
            if rel.startswith(f"{shard}/")}


def test_pagefind_is_given_what_it_reads_and_makes_the_index_the_whole_pages_make(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """searched_part: the <html> tag, the <title> and the data-pagefind-body element of
    every real paper page index exactly as the whole pages do (and are much smaller)."""
    real = tmp_path / "real"
    for folder in ("content", "templates", "static"):
        shutil.copytree(REPO / folder, real / folder)
    (real / "config.yaml").write_text((REPO / "config.yaml").read_text(encoding="utf-8")
                                      .replace("  search: true", "  search: false"))
    build_site(real / "config.yaml", real / "_site")
    pages = [(p.relative_to(real / "_site").as_posix(), p.read_bytes())
             for p in sorted((real / "_site").glob("papers/*/index.html"))]
    assert len(pages) > 400
    assert all(len(searched_part(html)) < len(html) / 2 for _, html in pages)
    pagefind.build_index(pages, tmp_path / "searched")
    monkeypatch.setattr(pagefind, "searched_part", lambda html: html)
    pagefind.build_index(pages, tmp_path / "whole")
    assert files(tmp_path / "searched") == files(tmp_path / "whole")


@pytest.mark.parametrize("page", [
    b"<!DOCTYPE html>\n<html lang=en><head><title>T</title></head><body><p>No body.</p>",
    b"<html lang=en><title>T</title><main data-pagefind-body>A</main>"
    b"<div data-pagefind-body>B</div>",
    b"<html lang=en><title>T</title><main data-pagefind-body>A</main>"
    b'<span data-pagefind-filter="year">2024</span>',
    b'<html lang=en><head><title>T</title><meta data-pagefind-meta="image[content]" '
    b'content="/a.png"></head><main data-pagefind-body>A</main>',
    b"<html lang=en><main data-pagefind-body>A</main>",  # no <title>
    b"<html lang=en><title>T</title><main data-pagefind-body>A <main>B</main>",  # unclosed
])
def test_a_page_pagefind_may_read_more_of_is_given_whole(page: bytes) -> None:
    assert searched_part(page) == page


def test_a_body_with_nested_elements_of_its_kind_is_cut_at_its_own_end() -> None:
    page = (b'<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>T</title>'
            b'<script type="application/ld+json">{}</script></head><body><header>Site</header>'
            b"<div data-pagefind-body><div>A</div><div>B</div></div><footer>F</footer>"
            b"</body></html>\n")
    assert searched_part(page) == (
        b'<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>T</title>'
        b"</head><body><div data-pagefind-body><div>A</div><div>B</div></div>"
        b"</body></html>\n")


def test_turning_search_off_removes_the_index(digest: Path) -> None:
    assert (build(digest) / "pagefind").is_dir()
    config = digest / "config.yaml"
    config.write_text(config.read_text().replace("search: true", "search: false"))
    assert snapshot(build(digest)) == snapshot(build(digest, "clean", clean=True))


def test_a_crash_right_after_a_first_build_moves_in_leaves_a_usable_folder(
        digest: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = sync.os.rename

    def rename_then_die(src: object, dst: object) -> None:
        real(src, dst)  # type: ignore[arg-type]
        if str(dst).endswith("_site"):
            raise KeyboardInterrupt("killed right after the rename")

    monkeypatch.setattr(sync.os, "rename", rename_then_die)
    with pytest.raises(KeyboardInterrupt):
        build(digest)
    monkeypatch.undo()
    # The folder is marked as ours, so the next build takes it over instead of refusing.
    assert snapshot(build(digest)) == snapshot(build(digest, "clean", clean=True))
