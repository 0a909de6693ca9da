"""Every *.txt in content/dumps/ is a dump: unlisted ones are dated by their header."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.build.pipeline import build_site
from site_builder.config import load_config
from site_builder.content import read_paper
from site_builder.errors import DumpError
from site_builder.ingest.dumps import header_date
from site_builder.ingest.merge import ingest
from tests.conftest import HEADER, dump_text
from tests.golden_site import files

LISTED = "A Listed Paper About Data Selection\n\nWe study data selection."
FOUND = "A Paper Only The New Dump Lists\n\nIts abstract, with no date of its own."
HEADER_LINE = HEADER.split("\n").index("Nov 26") + 1  # 1-based line of the header date


def saved_on(path: Path, day: dt.date) -> None:
    stamp = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC).timestamp()
    os.utime(path, (stamp, stamp))


@pytest.fixture
def root(project: Callable[..., Path]) -> Path:
    path: Path = project({"a.txt": dump_text(LISTED)}, captured={"a.txt": "2025-11-03"})
    new = path / "content/dumps/new.txt"
    new.write_text(dump_text(FOUND), encoding="utf-8")
    saved_on(new, dt.date(2025, 12, 1))
    return path


def test_an_unlisted_dump_is_ingested_with_its_header_date_and_announced(root: Path) -> None:
    config = load_config(root / "config.yaml")
    assert [(d.file, d.captured, d.listed) for d in config.dumps] == [
        ("a.txt", dt.date(2025, 11, 3), True), ("new.txt", dt.date(2025, 11, 26), False)]
    report = ingest(config)
    assert report.errors == []
    assert "a-paper-only-the-new-dump-lists" in report.new
    announced = [line for line in report.lines() if line.startswith("new.txt: not listed")]
    assert len(announced) == 1, report.lines()
    assert f"line {HEADER_LINE}" in announced[0] and "2025-11-26" in announced[0]
    assert "- {file: new.txt, captured: 2025-11-26}" in announced[0]
    paper = read_paper(root / "content/papers/a-paper-only-the-new-dump-lists.md")
    assert [s.file for s in paper.sources] == ["new.txt"]
    # The build dates the paper by the same capture date ingest used.
    build_site(root / "config.yaml", root / "_site")
    page = (root / "_site/papers/a-paper-only-the-new-dump-lists/index.html").read_text()
    assert "(captured Nov 26, 2025)" in page


def test_the_pinned_entry_wins_and_is_not_announced(root: Path) -> None:
    cfg = root / "config.yaml"
    cfg.write_text(cfg.read_text().replace(
        "dumps:\n", "dumps:\n  - file: new.txt\n    captured: 2025-11-20\n"))
    config = load_config(cfg)
    assert [(d.file, d.captured) for d in config.dumps] == [
        ("new.txt", dt.date(2025, 11, 20)), ("a.txt", dt.date(2025, 11, 3))]
    report = ingest(config)
    assert not any("not listed" in line for line in report.lines())


def test_the_year_comes_from_the_file_and_never_lies_after_it(root: Path) -> None:
    new = root / "content/dumps/new.txt"
    saved_on(new, dt.date(2027, 2, 1))
    assert load_config(root / "config.yaml").dumps[1].captured == dt.date(2026, 11, 26)
    new.write_text(dump_text(FOUND).replace("Nov 26", "Jan 30"), encoding="utf-8")
    saved_on(new, dt.date(2027, 2, 1))
    assert load_config(root / "config.yaml").dumps[1].captured == dt.date(2027, 1, 30)


@pytest.mark.parametrize("header, message", [
    ("Nov", "has no day"), ("November 2025", "has no day"), ("Feb 30", "not a real date")])
def test_a_header_without_a_day_is_an_error_naming_file_and_line(
        root: Path, header: str, message: str) -> None:
    new = root / "content/dumps/new.txt"
    new.write_text(dump_text(FOUND).replace("Nov 26", header), encoding="utf-8")
    report = ingest(load_config(root / "config.yaml"))
    assert [(e.file, e.line) for e in report.errors] == [("new.txt", HEADER_LINE)]
    assert message in report.errors[0].message
    assert report.new == ["a-listed-paper-about-data-selection"]  # the others still ingest
    assert any(line.startswith("new.txt:") and "FAILED" in line for line in report.lines())


def test_an_unreadable_dump_is_an_error_naming_file_and_line(root: Path) -> None:
    (root / "content/dumps/new.txt").unlink()
    (root / "content/dumps/gone.txt").symlink_to(root / "nowhere.txt")
    (root / "content/dumps/latin.txt").write_bytes(HEADER.encode() + b"Caf\xe9\n\nText.\n")
    report = ingest(load_config(root / "config.yaml"))
    assert sorted((e.file, e.line) for e in report.errors) == [
        ("gone.txt", 1), ("latin.txt", HEADER_LINE + 2)]
    assert "cannot read dump" in str(report.errors[0])
    assert report.new == ["a-listed-paper-about-data-selection"]


def test_a_header_without_any_date_names_the_first_entry() -> None:
    with pytest.raises(DumpError, match="no capture date") as info:
        header_date("Subscribe\n\nA Title\n\nAn abstract.\n", "x.txt", dt.date(2025, 1, 1))
    assert info.value.diagnostic.line == 3


def test_an_unlisted_dump_redates_incrementally_like_clean(root: Path) -> None:
    ingest(load_config(root / "config.yaml"))
    build_site(root / "config.yaml", root / "_site")
    saved_on(root / "content/dumps/new.txt", dt.date(2026, 12, 1))  # now captured in 2026
    result = build_site(root / "config.yaml", root / "_site")
    assert not result.noop
    build_site(root / "config.yaml", root / "clean", clean=True)
    assert files(root / "_site") == files(root / "clean")
    page = (root / "_site/papers/a-paper-only-the-new-dump-lists/index.html").read_text()
    assert "(captured Nov 26, 2026)" in page
