"""quick_front_matter reads exactly what PyYAML reads, or declines (None)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.content import _LOADER, dump_paper, split_front_matter
from site_builder.models import Paper, SourceRef
from site_builder.quickyaml import quick_front_matter
from tests.conftest import REPO
from tests.test_content import HOSTILE_TITLES


def same(quick: Any, loaded: Any) -> bool:
    """Equal, and of the same types all the way down (True == 1 in Python)."""
    if type(quick) is not type(loaded):
        return False
    if isinstance(loaded, dict):
        return quick.keys() == loaded.keys() and all(same(quick[k], loaded[k]) for k in loaded)
    if isinstance(loaded, list):
        return len(quick) == len(loaded) and all(map(same, quick, loaded))
    return bool(quick == loaded)


def agrees(front: str) -> None:
    """Whenever the quick reader answers, PyYAML reads the same; when PyYAML fails, the
    quick reader declines (so the error still comes from PyYAML, with its line)."""
    quick = quick_front_matter(front)
    try:
        loaded = yaml.load(front, Loader=_LOADER)
    except yaml.YAMLError:
        assert quick is None, front
        return
    assert quick is None or same(quick, loaded), (front, quick, loaded)


def test_every_real_entry_is_read_quickly_and_identically() -> None:
    files = sorted((REPO / "content" / "papers").glob("*.md"))
    assert len(files) > 400
    for path in files:
        front = split_front_matter(path.read_text(encoding="utf-8"), str(path))[0]
        quick = quick_front_matter(front)
        assert quick is not None, path  # the layout ingest writes is always the quick one
        assert same(quick, yaml.load(front, Loader=_LOADER)), path


def paper(title: str, note: str, tags: tuple[str, ...], day: dt.date | None,
          authors: int | None) -> Paper:
    return Paper(id="5bbd8ef3-1a24-5868-982a-3678bec518ac", slug="p", title=title,
                 abstract="Body.", published=day, authors=authors, submitter=None,
                 comments=None, sources=(SourceRef("000_ab.txt", 13), SourceRef("x y", 0)),
                 tags=tags, themes=(), note=note, featured=True, hidden=False)


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_agree(title: str) -> None:
    agrees(split_front_matter(dump_paper(paper(title, title, (title,), None, 0)), "p")[0])


@settings(max_examples=400, deadline=None)
@given(title=st.text(min_size=1), note=st.text(), tags=st.lists(st.text(min_size=1)),
       day=st.none() | st.dates(), authors=st.none() | st.integers(0, 10**6))
def test_what_ingest_writes_agrees(title: str, note: str, tags: list[str],
                                   day: dt.date | None, authors: int | None) -> None:
    text = dump_paper(paper(title.replace("\r", ""), note.replace("\r", ""), tuple(tags),
                            day, authors))
    agrees(split_front_matter(text, "p")[0])


# Values a curator might type: other YAML types, other spellings, broken quoting.
VALUE_TEXTS = [
    "x", "Plain text.", "yes", "No", "on", "OFF", "true", "False", "null", "Null", "~", "",
    "0", "7", "012", "0x1F", "1_000", "+1", "-1", "1:30", "1e3", "3.0", ".inf", "=", "<<",
    "2024-02-29", "2024-02-30", "2024-13-01", "2024-1-5", "2024-01-01 10:00:00",
    "'a''b'", "'''", "''", "'open", '"dq"', '"esc\\n"', '""', "[]", "[a, b]", "{}",
    "a: b", "a #c", "a#c", "x:", "- x", "&a x", "*a", "!!str x", "|", ">", "@x", "`x`",
    "C# and F#", "http://x.y/z", " lead", "trail ", "tab\tin", "é", "\u2028", "\ufeff",
]
VALUES = st.sampled_from(VALUE_TEXTS)
KEYS = st.sampled_from(["id", "title", "note", "authors", "published", "tags", "featured",
                        "Title", "two words", "x-y", "_k"])
LINES = st.one_of(
    st.tuples(KEYS, VALUES).map(lambda kv: f"{kv[0]}: {kv[1]}"),
    st.tuples(KEYS).map(lambda k: f"{k[0]}:"),
    VALUES.map(lambda v: f"- {v}"),
    st.tuples(KEYS, VALUES).map(lambda kv: f"- {kv[0]}: {kv[1]}"),
    st.tuples(KEYS, VALUES).map(lambda kv: f"  {kv[0]}: {kv[1]}"),
    st.sampled_from(["", "# comment", "  - x", "...", "---", "-", "key:value", " x: 1"]),
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=8).map("\n".join))
def test_what_a_curator_might_write_agrees(front: str) -> None:
    agrees(front)


# Well-formed front matter with tricky values: most of it is read quickly, so the
# comparison above is not only ever made on texts the quick reader declines.
FIELDS = st.dictionaries(
    st.sampled_from(["id", "title", "note", "authors", "published", "comments", "featured"]),
    VALUES | st.lists(VALUES, min_size=1, max_size=3), min_size=1)


def layout(fields: dict[str, str | list[str]]) -> str:
    return "\n".join(f"{key}: {value}" if isinstance(value, str)
                     else "\n".join([f"{key}:", *(f"- {item}" for item in value)])
                     for key, value in fields.items())


@settings(max_examples=1500, deadline=None)
@given(FIELDS.map(layout))
def test_well_formed_curator_edits_agree(front: str) -> None:
    agrees(front)


def test_well_formed_edits_are_mostly_read_quickly() -> None:
    texts = [layout({"title": v, "note": "x", "tags": [v, "a"]}) for v in VALUE_TEXTS]
    quick = [t for t in texts if quick_front_matter(t) is not None]
    assert len(quick) > len(texts) / 3


@pytest.mark.parametrize(("pattern", "allowed"), [
    ("site_builder.textclean.INVALID",
     "\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff"),  # XML 1.0's Char
    ("site_builder.quickyaml._UNSAFE",
     "\x0a\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff"),
])
def test_character_classes_spelled_as_what_they_leave_out(pattern: str, allowed: str) -> None:
    """Each class is written as the complement of what is allowed (faster to compile):
    over every code point it finds exactly the characters the allowed ranges leave out."""
    import importlib
    import re

    module, name = pattern.rsplit(".", 1)
    spelled: re.Pattern[str] = getattr(importlib.import_module(module), name)
    reference = re.compile(f"[^{allowed}]")
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    assert spelled.findall(every) == reference.findall(every)
