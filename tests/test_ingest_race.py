"""No lost update: an edit saved while ingest runs is kept, or ingest stops and says so.

Ingest is held at its deterministic hook (commit.py) while another thread saves the
edit the way an editor does (write, no lock), so the interleaving is exact, not timed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.config import load_config
from site_builder.content import read_paper
from site_builder.errors import ContentError
from site_builder.ingest.merge import ingest
from tests.conftest import dump_text

OLD = "An Old Paper About Data Selection\n\nSeen before."
NEW = "A Brand New Paper\n\nNever seen."
SLUG = "an-old-paper-about-data-selection"


@pytest.fixture
def root(project: Callable[..., Path]) -> Path:
    path: Path = project({"a.txt": dump_text(OLD)}, captured={"a.txt": "2025-11-26"})
    ingest(load_config(path / "config.yaml"))
    # A second dump lists the old paper again (a new source) and a new one.
    (path / "content/dumps/b.txt").write_text(dump_text(OLD, NEW), encoding="utf-8")
    return path


def save_note(path: Path, note: str) -> bytes:
    text = path.read_text(encoding="utf-8").replace("note: ''", f"note: {note}")
    path.write_text(text, encoding="utf-8")
    return text.encode()


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "content/papers").iterdir())}


def test_an_edit_saved_after_ingest_read_the_entries_is_kept(root: Path) -> None:
    entry = root / "content/papers" / f"{SLUG}.md"
    paused, saved = threading.Event(), threading.Event()

    def hold(stage: str, path: Path) -> None:  # ingest has read every entry by now
        if stage == "reread" and path == entry:
            paused.set()
            assert saved.wait(10)

    def curator() -> None:
        assert paused.wait(10)
        save_note(entry, "Saved while ingest ran.")
        saved.set()

    editor = threading.Thread(target=curator)
    editor.start()
    report = ingest(load_config(root / "config.yaml"), hook=hold)
    editor.join()
    paper = read_paper(entry)
    assert paper.note == "Saved while ingest ran."  # the edit is kept...
    assert [s.file for s in paper.sources] == ["a.txt", "b.txt"]  # ...and merged with ingest's
    assert report.sourced == [SLUG] and report.new == ["a-brand-new-paper"]


def test_an_edit_saved_in_the_last_moment_stops_ingest_and_is_kept(root: Path) -> None:
    entry = root / "content/papers" / f"{SLUG}.md"
    before = snapshot(root)
    edited: list[bytes] = []

    def hold(stage: str, path: Path) -> None:
        if stage == "rename" and path == entry and not edited:
            edited.append(save_note(entry, "Saved at the last moment."))

    with pytest.raises(ContentError, match="changed while ingest ran") as info:
        ingest(load_config(root / "config.yaml"), hook=hold)
    assert info.value.file == str(entry)
    after = snapshot(root)
    assert after.pop(f"{SLUG}.md") == edited[0]  # byte for byte what the curator saved
    before.pop(f"{SLUG}.md")
    assert after == before  # and nothing else was written: the new paper waits
    report = ingest(load_config(root / "config.yaml"))  # run again: both land
    assert read_paper(entry).note == "Saved at the last moment."
    assert report.new == ["a-brand-new-paper"]


def test_a_file_created_at_a_new_papers_slug_meanwhile_stops_ingest(root: Path) -> None:
    target = root / "content/papers/a-brand-new-paper.md"

    def hold(stage: str, path: Path) -> None:
        if stage == "reread" and path == target:
            target.write_text("mine\n", encoding="utf-8")

    with pytest.raises(ContentError, match="appeared while ingest ran"):
        ingest(load_config(root / "config.yaml"), hook=hold)
    assert target.read_text(encoding="utf-8") == "mine\n"
