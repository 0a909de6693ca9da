"""Ingest tells the curator what arrived, and records it for the review page."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from site_builder.config import load_config
from site_builder.ingest.merge import ingest
from site_builder.ingest.report import SHOWN, read_arrivals
from tests.conftest import dump_text


def paper(i: int) -> str:
    return f"Arrival Number {i} On Data Selection\n\nAbstract {i}."


def test_the_summary_lists_new_papers_by_title_and_where_to_review(
        project: Callable[..., Path]) -> None:
    count = SHOWN + 3
    root = project({"a.txt": dump_text(*(paper(i) for i in range(count)))},
                   captured={"a.txt": "2025-11-26"})
    report = ingest(load_config(root / "config.yaml"))
    lines = report.lines()
    assert f"new papers ({count}):" in lines
    shown = [line for line in lines if line.startswith("  Arrival Number")]
    assert len(shown) == SHOWN and "Arrival Number 0 On Data Selection" in shown[0]
    assert "  and 3 more" in lines
    assert any(line.startswith("review them: run `site-builder serve`") for line in lines)
    assert report.lines("http://127.0.0.1:8000/repo/_review/")[-1] == \
        "review them: http://127.0.0.1:8000/repo/_review/"
    record = json.loads((root / ".cache/last-ingest.json").read_text(encoding="utf-8"))
    assert record == {"new": report.new, "sourced": []}
    assert len(record["new"]) == count


def test_a_new_source_is_told_and_recorded_and_a_quiet_ingest_keeps_the_record(
        project: Callable[..., Path]) -> None:
    root = project({"a.txt": dump_text(paper(1), paper(2))}, captured={"a.txt": "2025-11-26"})
    ingest(load_config(root / "config.yaml"))
    (root / "content/dumps/b.txt").write_text(dump_text(paper(2), paper(3)), encoding="utf-8")
    report = ingest(load_config(root / "config.yaml"))
    lines = report.lines()
    assert report.new == ["arrival-number-3-on-data-selection"]
    assert report.sourced == ["arrival-number-2-on-data-selection"]
    at = lines.index("papers with a new source (1):")
    assert "Arrival Number 2 On Data Selection" in lines[at + 1]
    arrivals = read_arrivals(root)
    assert arrivals.new == ("arrival-number-3-on-data-selection",)
    assert arrivals.sourced == ("arrival-number-2-on-data-selection",)
    again = ingest(load_config(root / "config.yaml"))  # nothing arrives: record kept
    assert again.new == [] and not any(line.startswith("review") for line in again.lines())
    assert read_arrivals(root) == arrivals
    assert [p.name for p in (root / ".cache").iterdir()] == ["last-ingest.json"]


def test_a_dry_run_records_nothing(project: Callable[..., Path]) -> None:
    root = project({"a.txt": dump_text(paper(1))}, captured={"a.txt": "2025-11-26"})
    ingest(load_config(root / "config.yaml"), dry_run=True)
    assert not (root / ".cache/last-ingest.json").exists()


def test_a_record_that_is_not_ours_reads_as_no_arrivals(tmp_path: Path) -> None:
    (tmp_path / ".cache").mkdir()
    for text in ("[1, 2]", "{not json", '{"new": "x", "sourced": [3, "ok"]}'):
        (tmp_path / ".cache/last-ingest.json").write_text(text, encoding="utf-8")
        arrivals = read_arrivals(tmp_path)
        assert arrivals.new == () and arrivals.sourced in ((), ("ok",))
