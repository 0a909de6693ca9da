"""The search index is part of the build's all-or-nothing commit (build/search.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

import site_builder.build.pagefind as pagefind
import site_builder.incremental.sync as sync
from site_builder.build.pipeline import build_site
from site_builder.build.search_shards import in_shard, plan, read_manifest
from site_builder.errors import BuildError
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
