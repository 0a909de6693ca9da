"""Crashes, full disks, read-only folders and characters XML cannot hold (issue 14).

Kill tests run ingest in a child process whose ``os.replace`` exits the process at
the n-th call: a deterministic SIGKILL at a chosen point, no sleeps.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from site_builder.cli import main
from site_builder.config import load_config
from site_builder.ingest.merge import ingest
from tests.conftest import REPO, dump_text
from tests.e2e.minisite import BASE_URL, paper_text, write_project

A = "Paper {n} About Data Selection\n\nWe select data number {n}.\n\n  • 3 authors\n·\nFeb 6, 2023"


def papers(root: Path) -> dict[str, bytes]:
    folder = root / "content" / "papers"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def ingest_killed_at(root: Path, replace_call: int) -> int:
    """Run ingest in a child that dies (os._exit, like SIGKILL: no cleanup, no finally)
    at its ``replace_call``-th os.replace; returns the exit status."""
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(REPO)!r})
        from pathlib import Path
        import site_builder.write as write
        real, calls = os.replace, [0]
        def replace(src, dst):
            calls[0] += 1
            if calls[0] == {replace_call}:
                os._exit(137)
            real(src, dst)
        write.os.replace = replace
        from site_builder.config import load_config
        from site_builder.ingest.merge import ingest
        ingest(load_config(Path({str(root / "config.yaml")!r})))
        """)
    return subprocess.run([sys.executable, "-c", script], check=False).returncode


@pytest.fixture
def five(project: Callable[..., Path]) -> Path:
    return project({"a.txt": dump_text(*(A.format(n=n) for n in range(5)))})


def expected_after_ingest(project_root: Path, tmp_path: Path) -> dict[str, bytes]:
    import shutil

    copy = tmp_path / "reference"
    shutil.copytree(project_root, copy)
    ingest(load_config(copy / "config.yaml"))
    return papers(copy)


# --- 8: a killed ingest ------------------------------------------------------------------

def test_kill_during_renames_is_completed_by_next_ingest(five: Path, tmp_path: Path) -> None:
    want = expected_after_ingest(five, tmp_path)
    # Call 1 puts the journal in place; calls 2.. rename the entries: die at the third.
    assert ingest_killed_at(five, 4) == 137
    half = [n for n in papers(five) if n.endswith(".md")]
    assert 0 < len(half) < 5  # half applied, as the issue found
    report = ingest(load_config(five / "config.yaml"))
    assert papers(five) == want  # completed, byte for byte; no temporary, no journal
    assert any("completed an interrupted ingest: 3" in str(w) for w in report.warnings)


def test_a_save_after_the_kill_is_not_overwritten_by_the_recovery(five: Path,
                                                                   tmp_path: Path) -> None:
    ingest(load_config(five / "config.yaml"))
    (five / "content" / "dumps" / "a.txt").write_text(dump_text(
        *(A.format(n=n) for n in range(5)), "Extra Paper\n\nAn extra abstract."))
    entries = sorted((five / "content" / "papers").glob("*.md"))
    for entry in entries:  # a new source line for every entry: five renames
        entry.write_text(entry.read_text().replace("line: ", "line: 1"))
    assert ingest_killed_at(five, 3) == 137  # the journal, one entry, then killed
    last = sorted((five / "content" / "papers").glob("*.md"))[-1]
    last.write_text(last.read_text().replace("note: ''", "note: curated after the kill"))
    report = ingest(load_config(five / "config.yaml"))
    assert "note: curated after the kill" in last.read_text()
    assert any(w.file == str(last) and "kept as it is" in w.message for w in report.warnings)
    assert not [p for p in (five / "content" / "papers").iterdir() if p.name.startswith(".")]


def test_kill_before_renames_leaves_temporaries_the_next_ingest_removes(
        five: Path, tmp_path: Path) -> None:
    want = expected_after_ingest(five, tmp_path)
    assert ingest_killed_at(five, 1) == 137  # temporaries written, journal not in place
    left = [n for n in papers(five) if n.endswith(".tmp")]
    assert len(left) == 6  # five entries and the journal's own temporary
    report = ingest(load_config(five / "config.yaml"))
    assert papers(five) == want
    assert any("removed 6 temporary" in str(w) for w in report.warnings)


def test_temporaries_and_journal_are_ignored_by_git() -> None:
    for name in ("content/papers/.paper-x.md.ab12cd34.tmp", "content/papers/.ingest-journal.json"):
        ignored = subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", name],
                                 check=False)
        assert ignored.returncode == 0, name


def test_a_journal_cannot_rename_outside_its_folder(five: Path) -> None:
    from site_builder.write import recover

    folder = five / "content" / "papers"
    folder.mkdir(parents=True, exist_ok=True)
    (five / "victim").write_text("keep")
    (folder / ".x.md.abcdefgh.tmp").write_text("new")
    (folder / ".ingest-journal.json").write_text(
        '{"renames": [["../victim", "x.md", null], [".x.md.abcdefgh.tmp", "../../victim", '
        'null], [".x.md.abcdefgh.tmp", "x.md", "not the digest of any file"]]}')
    assert recover(folder / ".ingest-journal.json") == (0, 1, [folder / "x.md"])
    assert (five / "victim").read_text() == "keep"
    assert sorted(os.listdir(folder)) == []


def test_writes_are_fsynced_files_and_folder(five: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    import site_builder.write as write

    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(write.os, "fsync", fsync)
    ingest(load_config(five / "config.yaml"))
    folder = str((five / "content" / "papers").resolve())
    entries = [p for p in synced if p.endswith(".tmp") and ".ingest-journal" not in p]
    assert len(entries) == 5
    # The folder: after the temporaries, after the journal, after the renames.
    assert synced.count(folder) >= 3


@pytest.mark.parametrize("kind", ["link", "fifo"])
def test_a_dump_that_is_no_plain_file_is_refused(project: Callable[..., Path], kind: str
                                                 ) -> None:
    root = project({"a.txt": dump_text(A.format(n=1))})
    dump = root / "content" / "dumps" / "a.txt"
    dump.unlink()
    if kind == "link":
        dump.symlink_to("/etc/passwd")
    else:
        os.mkfifo(dump)  # read_bytes would wait forever
    report = ingest(load_config(root / "config.yaml"))
    assert [e.file for e in report.errors] == ["a.txt"]
    assert not list((root / "content" / "papers").glob("*.md"))


# --- 7: characters XML cannot hold -------------------------------------------------------

BAD = "form\x0cfeed, bell\x07, U+FFFE\ufffe, U+FFFF\uffff"


def test_ingest_removes_invalid_characters_with_file_and_line(
        project: Callable[..., Path]) -> None:
    root = project({"a.txt": dump_text(
        f"Bad Characters Paper\n\nAn abstract with {BAD} in it.\n\n  • 3 authors\n·\nFeb 6, 2023")})
    report = ingest(load_config(root / "config.yaml"))
    entry = next((root / "content" / "papers").glob("*.md")).read_text()
    assert "form" in entry and not any(c in entry for c in "\x0c\x07\ufffe\uffff")
    warned = [w for w in report.warnings if "not allowed in XML" in w.message]
    assert [(w.file, w.line) for w in warned] == [("a.txt", 15)]
    assert "U+000C" in warned[0].message and "U+FFFF" in warned[0].message


@pytest.mark.parametrize("bad", ["\x0c", "\x00", "\ufffe", "\uffff", "\x1b"])
def test_build_removes_invalid_characters_with_file_and_line(tmp_path: Path, bad: str) -> None:
    from lxml import etree

    from site_builder.build.pipeline import build_site

    text = paper_text("00000000-0000-4000-8000-0000000000dd", f"Title{bad} of data selection",
                      f"Line one.\n\nAbstract about data selection{bad} here.",
                      "2024-03-01", note=f"note{bad}")
    config = write_project(tmp_path, {"bad-chars": text})
    result = build_site(config, tmp_path / "_site", base_url=BASE_URL, clean=True)
    where = str(tmp_path / "content" / "papers" / "bad-chars.md")
    warned = [w for w in result.warnings if w.startswith(where) and "not allowed" in w]
    line = next(n for n, t in enumerate(text.split("\n"), 1) if t.startswith("Abstract"))
    assert f"{where}:{line}: removed 1 character(s)" in " ".join(warned)  # the body's line
    assert any("field 'title'" in w for w in warned)
    for path in (tmp_path / "_site").rglob("*"):
        if path.suffix in (".html", ".xml", ".json"):
            data = path.read_text(encoding="utf-8")
            assert bad not in data, path
    for feed in (tmp_path / "_site").rglob("*.xml"):
        etree.fromstring(feed.read_bytes())  # well-formed XML


# --- 10: OSErrors are messages naming the file -------------------------------------------

@contextlib.contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("a small tmpfs needs root (mount); run the suite as root to test this")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                             check=False, capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def cli(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    status = main(["--config", str(config), *args])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    return err


def test_full_disk_names_the_file_and_cleans_staging(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path)
    with tmpfs(tmp_path / "full", "size=48k") as full:
        err = cli(config, capsys, "build", "--out", str(full / "site"))
        assert "No space left on device" in err and str(full) in err
        assert os.listdir(full) == []  # no staging folder left filling the disk


def test_read_only_output_names_the_file(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path)
    with tmpfs(tmp_path / "ro", "ro,size=1m") as ro:
        err = cli(config, capsys, "build", "--out", str(ro / "site"))
        assert "Read-only file system" in err and str(ro) in err


def test_read_only_papers_folder_names_the_file(project: Callable[..., Path],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = project({"a.txt": dump_text(A.format(n=1))})
    papers_dir = root / "content" / "papers"
    with tmpfs(papers_dir, "ro,size=1m"):
        err = cli(root / "config.yaml", capsys, "ingest")
        assert "Read-only file system" in err and str(papers_dir) in err


def test_output_that_is_a_file_is_a_message(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path)
    (tmp_path / "_site").write_text("not a folder")
    err = cli(config, capsys, "build", "--out", str(tmp_path / "_site"))
    assert f"{tmp_path / '_site'}: the output folder is a file" in err


def test_any_other_oserror_is_a_message_naming_its_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import site_builder.build.pipeline as pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "/some/where")

    monkeypatch.setattr(pipeline, "_build", broken)
    err = cli(write_project(tmp_path), capsys, "build")
    assert "error: /some/where: Permission denied" in err
