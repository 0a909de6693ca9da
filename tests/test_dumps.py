"""Tests of site_builder.ingest.dumps: fixture cases, the real dumps, and properties.

Fixture files live in tests/fixtures/dumps/ (format described at the top of formats.txt);
each case runs bytes -> decode_dump -> parse_dump, and its test id is FILE:LINE-name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.errors import DumpError
from site_builder.ingest.dumps import decode_dump, parse_dump, read_dump
from site_builder.models import ParseResult, RawEntry

FIXTURES = Path(__file__).parent / "fixtures" / "dumps"
DUMPS = Path(__file__).parent.parent / "content" / "dumps"
BOILERPLATE = (
    "new",
    "Get trending papers in your email inbox!",
    "Get trending papers in your email inbox once a day!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
)
MARKERS = {"{BOM}": "\ufeff", "{CR}": "\r", "{NBSP}": "\u00a0", "{TAB}": "\t"}


@dataclass(frozen=True)
class Case:
    file: str
    line: int
    name: str
    captured: dt.date | None
    data: bytes
    expected: dict[str, Any]


def _input_bytes(lines: list[str]) -> bytes:
    text = "\n".join(lines) + "\n"
    text = text.split("{EOF}")[0]  # {EOF}: the dump ends right here, no final newline
    for marker, char in MARKERS.items():
        text = text.replace(marker, char)
    return re.sub(rb"\{x([0-9A-Fa-f]{2})\}", lambda m: bytes.fromhex(m[1].decode()), text.encode())


def read_cases(path: Path) -> list[Case]:
    """Cases of a fixture file: 'name [captured=DATE]', '.', input, '.', JSON, '.'."""
    lines = path.read_text(encoding="utf-8").split("\n")
    cases, i = [], 0
    while i < len(lines):
        if not lines[i].strip() or lines[i].startswith("#"):
            i += 1
            continue
        start, (name, *options) = i + 1, lines[i].split()
        assert lines[i + 1] == ".", f"{path.name}:{start}: case title must be followed by '.'"
        blocks: list[list[str]] = [[], []]
        i += 2
        for block in blocks:
            while lines[i] != ".":
                block.append(lines[i])
                i += 1
            i += 1
        captured = None
        for option in options:
            key, _, value = option.partition("=")
            assert key == "captured", f"{path.name}:{start}: unknown option {option}"
            captured = None if value == "none" else dt.date.fromisoformat(value)
        expected = json.loads("\n".join(blocks[1]) or "{}")
        cases.append(Case(path.name, start, name, captured, _input_bytes(blocks[0]), expected))
    return cases


ALL_CASES = [case for path in sorted(FIXTURES.glob("*.txt")) for case in read_cases(path)]


def entry_json(entry: RawEntry) -> dict[str, Any]:
    """An entry as the fixtures write it: empty and null fields left out."""
    out: dict[str, Any] = {"line": entry.source.line, "title": entry.title}
    if entry.abstract:
        out["abstract"] = entry.abstract
    for key in ("authors", "submitter", "comments"):
        if getattr(entry, key) is not None:
            out[key] = getattr(entry, key)
    if entry.published is not None:
        out["published"] = entry.published.isoformat()
    return out


def result_json(data: bytes, file_name: str, captured: dt.date | None) -> dict[str, Any]:
    try:
        result = parse_dump(decode_dump(data, file_name), file_name, captured)
    except DumpError as exc:
        return {"error": f"{exc.line}: {exc.diagnostic.message}"}
    assert all(w.file == file_name for w in result.warnings)
    assert all(e.source.file == file_name for e in result.entries)
    warnings = [f"{w.line}: {w.message}" if w.line else w.message for w in result.warnings]
    return {"entries": [entry_json(e) for e in result.entries], "warnings": warnings}


@pytest.mark.parametrize("case", ALL_CASES, ids=[f"{c.file}:{c.line}-{c.name}" for c in ALL_CASES])
def test_fixture(case: Case) -> None:
    assert result_json(case.data, "dump.txt", case.captured) == case.expected


def test_fixtures_found() -> None:
    names = {case.file for case in ALL_CASES}
    assert names == {"formats.txt", "bad_input.txt", "encoding.txt"}
    assert len({(c.file, c.name) for c in ALL_CASES}) == len(ALL_CASES), "duplicate case names"


# --- the real dumps -------------------------------------------------------------------

# Capture dates as config.yaml records them; 003 has none.
REAL = {
    "000_66fbaf0adf7de9f2.txt": (dt.date(2025, 11, 26), 93),
    "001_fc22bed149d84375.txt": (dt.date(2025, 11, 3), 86),
    "002_279f674704e02df1.txt": (dt.date(2025, 3, 11), 51),
    "003_e7ebb4fcc10409a1.txt": (None, 210),
    "004_15aa100f2e84a4cc.txt": (dt.date(2025, 3, 14), 67),
}


@pytest.fixture(scope="module")
def real() -> dict[str, ParseResult]:
    return {name: read_dump(DUMPS / name, captured) for name, (captured, _) in REAL.items()}


def test_real_dump_counts(real: dict[str, ParseResult]) -> None:
    assert {name: len(r.entries) for name, r in real.items()} == {
        name: count for name, (_, count) in REAL.items()
    }
    assert sum(len(r.entries) for r in real.values()) == 507
    assert {name: r.warnings for name, r in real.items()} == {name: () for name in REAL}


def test_real_dumps_alternate_cleanly(real: dict[str, ParseResult]) -> None:
    # Real titles are at most ~175 characters and real abstracts at least ~670: a slip
    # in the alternation would put an abstract in a title or leave one empty.
    for result in real.values():
        for entry in result.entries:
            assert len(entry.title) < 200 and len(entry.abstract) > 600, entry.source
            assert entry.title not in BOILERPLATE


@pytest.mark.parametrize("name", ["000_66fbaf0adf7de9f2.txt", "001_fc22bed149d84375.txt"])
def test_real_metadata_blocks_read_in_full(real: dict[str, ParseResult], name: str) -> None:
    text = (DUMPS / name).read_text(encoding="utf-8")
    blocks = text.count("\n·\n")  # one middle-dot line per metadata block
    with_meta = [
        e for e in real[name].entries if e.authors or e.submitter or e.published or e.comments
    ]
    assert len(with_meta) == blocks
    for entry in with_meta:
        assert (entry.authors or entry.submitter) and entry.published, entry.source
    assert len(real[name].entries) - len(with_meta) == 1  # one entry each has no metadata


def test_real_spot_checks(real: dict[str, ParseResult]) -> None:
    by_title = {e.title: e for e in real["000_66fbaf0adf7de9f2.txt"].entries}
    fineweb = next(e for t, e in by_title.items() if t.startswith("FineWeb2"))
    assert (fineweb.submitter, fineweb.authors) == ("HuggingFaceFW FineData", None)
    assert (fineweb.published, fineweb.comments) == (dt.date(2025, 6, 25), 1)
    illume = next(e for t, e in by_title.items() if t.startswith("ILLUME"))
    assert (illume.authors, illume.published, illume.comments) == (8, dt.date(2024, 12, 9), 2)
    first = real["003_e7ebb4fcc10409a1.txt"].entries[0]
    assert first.title == "Give your Text Representation Models some Love: the Case for Basque"
    assert first.source.line == 3
    last = real["003_e7ebb4fcc10409a1.txt"].entries[-1]
    assert last.abstract.endswith("https://tripletclip.github.io")  # no trailing newline


def test_read_dump_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DumpError) as info:
        read_dump(tmp_path / "absent.txt", None)
    assert info.value.file == "absent.txt" and info.value.line == 1


def test_read_dump_names_entries_by_file_name(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"\xef\xbb\xbfA Title\r\n\r\nIts abstract. Two sentences.\r\n")
    result = read_dump(path, None)
    assert result.file == "x.txt" and result.warnings == ()
    assert [(e.title, e.source.file, e.source.line) for e in result.entries] == [
        ("A Title", "x.txt", 1)
    ]


# --- properties -----------------------------------------------------------------------

LINE_PIECES = [
    *BOILERPLATE,
    "SubscribeGlued Title",
    "SubscribeDaily Papers",
    "Get trending papers in your email inbox!SubscribeGlued Title",
    "  • 5 authors",
    "• 1 author",
    "·",
    "Mar 5",
    "Nov 26",
    "Feb 30, 2024",
    "Dec 9, 2024 2",
    "Foo 5, 2024",
    "HuggingFaceFW FineData",
    "",
    " ",
    "\u00a0",
    "\t",
    "Phi 3",
    "A Short Title",
    "A short abstract. With two sentences.",
    "x" * 300,
]
lines_strategy = st.lists(
    st.one_of(st.sampled_from(LINE_PIECES), st.text(max_size=40)), max_size=30
)
ends_strategy = st.sampled_from(["\n", "\r\n", "\r"])
capture_strategy = st.none() | st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31))
DATE_LINE = re.compile(r"([A-Za-z]{3,9})\.?\s+([0-9]{1,2})(?:,\s*[0-9]{4})?(?:\s+[0-9]+)?")
AUTHORS_LINE = re.compile(r"•\s*([0-9]+)\s+authors?", re.IGNORECASE)


def _peel(text: str) -> str:
    """``text`` without the header phrases glued onto its start."""
    while phrase := next((p for p in BOILERPLATE if text.startswith(p) and text != p), None):
        text = text[len(phrase) :]
    return text


def _accounted(line: int, text: str, result: ParseResult) -> bool:
    """Whether a non-blank line shows up in the result: as header, entry text, metadata
    of the entry it follows, or a warning naming it."""
    entries = result.entries
    if text in BOILERPLATE or any(w.line == line for w in result.warnings):
        return True
    if any(text in (e.title, e.abstract, e.submitter) for e in entries):
        return True
    unglued = _peel(text)
    if unglued in BOILERPLATE or any(unglued == e.title for e in entries):
        return True  # header phrases glued together, or onto the first title
    before = [e for e in entries if e.source.line < line]
    if not before:
        return DATE_LINE.fullmatch(text) is not None  # the header's capture date
    owner = before[-1]
    following = [e.source.line for e in entries if e.source.line > line]
    span_end = following[0] if following else 1 << 30
    has_meta = any(x is not None for x in (owner.authors, owner.submitter, owner.published))
    has_meta = has_meta or owner.comments is not None
    if m := AUTHORS_LINE.fullmatch(text):
        return owner.authors == int(m[1])
    if text == "·":
        in_span = any(owner.source.line <= (w.line or 0) < span_end for w in result.warnings)
        return has_meta or in_span
    return DATE_LINE.fullmatch(text) is not None and (
        owner.published is not None or owner.comments is not None
    )


@settings(max_examples=400, deadline=None)
@given(lines=lines_strategy, ends=st.lists(ends_strategy, min_size=1), captured=capture_strategy)
def test_parse_never_raises_and_never_loses_a_line(
    lines: list[str], ends: list[str], captured: dt.date | None
) -> None:
    text = "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))
    result = parse_dump(text, "r.txt", captured)  # must not raise at all
    assert [w.line or 0 for w in result.warnings] == sorted(w.line or 0 for w in result.warnings)
    assert not any(e.title in BOILERPLATE for e in result.entries)
    assert all(e.title == e.title.strip() and e.title for e in result.entries)
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    for number, raw in enumerate(normalised.split("\n"), start=1):
        if raw.strip():
            assert _accounted(number, raw.strip(), result), (number, raw, result)
    if not result.entries:
        assert result.warnings, "a dump with no entries must say so"


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200))
def test_decode_raises_only_dump_error(data: bytes) -> None:
    try:
        text = decode_dump(data, "b.txt")
    except DumpError as exc:
        assert exc.file == "b.txt" and exc.line is not None and exc.line >= 1
    else:
        assert "\r" not in text and "\0" not in text and not text.startswith("\ufeff")
        parse_dump(text, "b.txt", None)


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.text(st.characters(codec="utf-8", exclude_characters="\r\n\0"), max_size=20), max_size=8
    ),
    ends=ends_strategy,
    bad=st.sampled_from([b"\xff", b"\x00", b"\xc3(", b"\xed\xa0\x80"]),
    where=st.integers(min_value=0),
)
def test_decode_error_names_the_line(lines: list[str], ends: str, bad: bytes, where: int) -> None:
    # Random lines are valid UTF-8 without NUL, so the inserted bytes are the first fault.
    row = where % (len(lines) + 1)
    parts = [line.encode() for line in lines]
    parts.insert(row, b"before " + bad + b" after")
    with pytest.raises(DumpError) as info:
        decode_dump(ends.encode().join(parts), "c.txt")
    assert info.value.line == row + 1
