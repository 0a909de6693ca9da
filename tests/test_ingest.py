"""Ingest: dumps -> content/papers/, idempotent and curator-safe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.config import load_config
from site_builder.content import read_paper
from site_builder.ingest.merge import ingest, paper_id, slug_base, title_key
from tests.conftest import dump_text

A = """\
Data Selection for Language Models via Importance Resampling

We select pretraining data by importance resampling.

  • 3 authors
·
Feb 6, 2023 4"""
B = """\
Extending Context Windows: A Long-Context Recipe

We extend the long-context ability of LLMs to 128k tokens. Code: https://github.com/x/y.

  • 1 author
·
Mar 5"""
C = """\
A Third Paper About Code

Abstract of the third paper."""


def snapshot(root: Path) -> dict[str, bytes]:
    papers = root / "content" / "papers"
    return {p.name: p.read_bytes() for p in sorted(papers.glob("*"))}


def run(root: Path):  # type: ignore[no-untyped-def]
    return ingest(load_config(root / "config.yaml"))


def test_one_file_per_unique_paper_with_every_source(project: Callable[..., Path]) -> None:
    root = project({"a.txt": dump_text(A, B), "b.txt": dump_text(C, A)},
                   captured={"a.txt": "2025-11-26"})
    report = run(root)
    assert sorted(report.new) == [
        "a-third-paper-about-code",
        "data-selection-for-language-models-via-importance-resampling",
        "extending-context-windows-a-long-context-recipe",
    ]
    assert report.duplicates == 1
    paper = read_paper(root / "content/papers/data-selection-for-language-models-via-importance-"
                                "resampling.md")
    assert [(s.file, s.line) for s in paper.sources] == [("a.txt", 13), ("b.txt", 17)]
    assert (paper.authors, paper.comments, str(paper.published)) == (3, 4, "2023-02-06")
    yearless = read_paper(
        root / "content/papers/extending-context-windows-a-long-context-recipe.md")
    assert str(yearless.published) == "2025-03-05" and yearless.authors == 1


def test_second_run_changes_no_byte(project: Callable[..., Path]) -> None:
    root = project({"a.txt": dump_text(A, B, C)})
    run(root)
    before = snapshot(root)
    report = run(root)
    assert report.new == [] and report.updated == [] and report.unchanged == 3
    assert snapshot(root) == before


def test_curator_edits_survive_reingest_and_new_dump(project: Callable[..., Path]) -> None:
    root = project({"a.txt": dump_text(A, B)})
    run(root)
    path = root / "content/papers/data-selection-for-language-models-via-importance-resampling.md"
    text = path.read_text()
    text = text.replace("tags: []", "tags:\n- favourite").replace("note: ''", "note: Read this.")
    text = text.replace("title: Data Selection", "title: Curated Data Selection")
    text = text.replace("We select pretraining data", "EDITED BODY. We select pretraining data")
    path.write_text(text)
    # A new dump with the same paper (and one new paper) arrives.
    (root / "content/dumps/new.txt").write_text(dump_text(C, A))
    cfg = root / "config.yaml"
    cfg.write_text(cfg.read_text().replace("  - file: a.txt", "  - file: a.txt\n  - file: new.txt"))
    report = run(root)
    assert report.new == ["a-third-paper-about-code"]
    assert report.updated == ["data-selection-for-language-models-via-importance-resampling"]
    paper = read_paper(path)
    assert paper.tags == ("favourite",) and paper.note == "Read this."
    assert paper.title.startswith("Curated Data Selection")
    assert paper.abstract.startswith("EDITED BODY.")
    assert [s.file for s in paper.sources] == ["a.txt", "new.txt"]
    after = path.read_bytes()
    run(root)
    assert path.read_bytes() == after


def test_fills_empty_fields_but_never_overwrites(project: Callable[..., Path]) -> None:
    bare = "Data Selection for Language Models via Importance Resampling\n\nAbstract."
    root = project({"a.txt": dump_text(bare)})
    run(root)
    path = root / "content/papers/data-selection-for-language-models-via-importance-resampling.md"
    assert read_paper(path).authors is None
    (root / "content/dumps/a.txt").write_text(dump_text(A.replace("3 authors", "7 authors")))
    run(root)
    assert read_paper(path).authors == 7
    text = path.read_text().replace("authors: 7", "authors: 8")
    path.write_text(text)
    run(root)
    assert read_paper(path).authors == 8


def test_removed_dump_is_reported_not_deleted(project: Callable[..., Path]) -> None:
    root = project({"a.txt": dump_text(A), "b.txt": dump_text(C)})
    run(root)
    cfg = root / "config.yaml"
    cfg.write_text(cfg.read_text().replace("  - file: b.txt\n", ""))
    (root / "content/dumps/b.txt").unlink()  # every *.txt there is a dump, listed or not
    report = run(root)
    assert report.orphans == ["a-third-paper-about-code"]
    assert (root / "content/papers/a-third-paper-about-code.md").exists()
    assert any("a-third-paper-about-code" in line for line in report.lines())


def test_bad_dump_is_reported_and_others_still_ingest(project: Callable[..., Path]) -> None:
    root = project({"good.txt": dump_text(A), "bad.txt": "x"})
    (root / "content/dumps/bad.txt").write_bytes(b"Title\n\nAbstract \xff\xfe broken\n")
    report = run(root)
    assert report.new == ["data-selection-for-language-models-via-importance-resampling"]
    assert [(e.file, e.line) for e in report.errors] == [("bad.txt", 3)]
    assert "FAILED" in "\n".join(report.lines())


def test_titles_differing_in_punctuation_stay_two_papers(project: Callable[..., Path]) -> None:
    one = "Scaling Laws: A Study\n\nFirst abstract."
    two = "Scaling Laws? A Study\n\nSecond abstract."
    nfc = "Caf\u00e9 Corpora\n\nComposed form."
    nfd = "Cafe\u0301 Corpora\n\nDecomposed form."
    root = project({"a.txt": dump_text(one, two, nfc, nfd)})
    report = run(root)
    assert sorted(report.new) == ["cafe-corpora", "scaling-laws-a-study", "scaling-laws-a-study-2"]
    assert report.duplicates == 1


def test_slugs_for_titles_without_ascii_letters() -> None:
    assert slug_base("大规模预训练", paper_id("大规模预训练")).startswith("paper-")
    assert slug_base("2024", paper_id("2024")).startswith("paper-")
    assert slug_base("Ünïcödé Títlé", "x") == "unicode-title"
    assert len(slug_base("word " * 100, "x")) <= 80


def test_identity_ignores_case_space_and_unicode_form() -> None:
    assert title_key("Café  Data") == title_key("cafe\u0301 data")
    assert paper_id("A: B") != paper_id("A; B")


def test_all_or_nothing_when_a_write_fails(project: Callable[..., Path],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    root = project({"a.txt": dump_text(A)})
    run(root)
    before = snapshot(root)
    (root / "content/dumps/a.txt").write_text(dump_text(A, B, C))
    import site_builder.write as write

    real_replace = write.os.replace
    calls = {"n": 0}

    def flaky_replace(src: str, dst: str) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(write.os, "replace", flaky_replace)
    from site_builder.errors import ContentError

    with pytest.raises(ContentError, match="disk full"):  # a message, not a traceback
        run(root)
    monkeypatch.setattr(write.os, "replace", real_replace)
    assert snapshot(root) == before
    leftovers = [p.name for p in (root / "content/papers").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_bad_existing_entry_stops_ingest_with_file_and_line(project: Callable[..., Path]) -> None:
    root = project({"a.txt": dump_text(A)})
    run(root)
    path = next((root / "content/papers").glob("*.md"))
    path.write_text(path.read_text().replace("authors: 3", "authors: [unclosed"))
    from site_builder.errors import ContentError

    with pytest.raises(ContentError) as info:
        run(root)
    assert info.value.file == str(path) and info.value.line is not None
