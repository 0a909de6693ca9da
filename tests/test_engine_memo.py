"""The engine digest remembered by stamp across processes (incremental/engine.py): the
same digest as reading the package, never for files edited within RACY_NS."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from site_builder.incremental import engine


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the package, its files an hour old, and a user cache folder of its own."""
    copy = tmp_path / "site_builder"
    shutil.copytree(engine.PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    old = time.time_ns() - 3600 * 10**9
    for path in copy.rglob("*"):
        os.utime(path, ns=(old, old))
    monkeypatch.setattr(engine, "PACKAGE_ROOT", copy)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    engine._engine_digest.cache_clear()
    yield copy
    engine._engine_digest.cache_clear()


def fresh_digest() -> str:
    engine._engine_digest.cache_clear()  # a new process
    return engine.engine_digest()


def test_the_remembered_digest_is_the_digest_of_the_files(package: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    first = fresh_digest()
    assert engine._memo_path().is_file()
    read = engine._engine_files
    walks: list[int] = []

    def counted() -> list[Path]:
        walks.append(1)
        return read()

    monkeypatch.setattr(engine, "_engine_files", counted)
    assert fresh_digest() == first
    assert len(walks) == 1  # the stamp's walk; no second one to read the files
    monkeypatch.setattr(engine, "_engine_files", read)
    module = package / "render/feeds.py"
    module.write_text(module.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    edited = fresh_digest()
    assert edited != first  # another stamp: read again
    module.write_text(module.read_text(encoding="utf-8")[:-len("# edited\n")], encoding="utf-8")
    assert fresh_digest() == first  # the same bytes, read again (their mtime is new)


def test_files_edited_just_now_are_not_remembered(package: Path) -> None:
    module = package / "site.py"
    module.write_text(module.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    fresh_digest()
    assert not engine._memo_path().exists()


def test_a_damaged_memo_is_no_memo(package: Path) -> None:
    first = fresh_digest()
    engine._memo_path().write_text("{not json", encoding="utf-8")
    assert fresh_digest() == first
    engine._memo_path().write_text('["a list"]', encoding="utf-8")
    assert fresh_digest() == first
