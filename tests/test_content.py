"""Front matter in and out: exact round-trips and errors that name file, line and field."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.content import dump_paper, load_paper
from site_builder.errors import ContentError, Diagnostic
from site_builder.models import Paper, SourceRef
from site_builder.textclean import INVALID

HOSTILE_TITLES = [
    "- x", "a: b", "#", "---", "null", "~", "2024", "1e3", "yes", "NO", "'quoted'", '"dq"',
    "<script>alert(1)</script>", "x #comment", "@at", "`tick`", "{a: 1}", "[1, 2]", "*ref",
    "&anchor", "!tag", "%YAML", "a\\b", "trailing ", "大规模语言模型的预训练", "تعلم الآلة",
    "🚀 Rocket", "\u202eevil\u202c", "tab\there", "… ellipsis", "= equals", "| pipe", "> fold",
]


def make(title: str, abstract: str = "Body text.") -> Paper:
    return Paper(id="5bbd8ef3-1a24-5868-982a-3678bec518ac", slug="p", title=title,
                 abstract=abstract, published=dt.date(2024, 2, 29), authors=3, submitter=None,
                 comments=None, sources=(SourceRef("000.txt", 13),), tags=("code",),
                 themes=(), note="", featured=False, hidden=False)


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_round_trip_exactly(title: str) -> None:
    paper = make(title.strip() if title.endswith(" ") else title)
    assert load_paper(dump_paper(paper), Path("p.md")) == paper


@settings(max_examples=300, deadline=None)
@given(title=st.text(min_size=1).filter(lambda t: INVALID.sub("", t).strip() != ""),
       abstract=st.text().map(str.strip))
def test_any_title_round_trips(title: str, abstract: str) -> None:
    # The loader normalises line ends of the whole file, so titles keep \r only escaped;
    # characters XML cannot hold are removed (textclean.py), with a warning.
    paper = make(title, abstract.replace("\r", ""))
    warnings: list[Diagnostic] = []
    loaded = load_paper(dump_paper(paper), Path("p.md"), warnings)
    assert loaded.title == INVALID.sub("", paper.title)
    assert loaded.abstract == INVALID.sub("", paper.abstract).strip()
    assert bool(warnings) == bool(INVALID.search(title + abstract))


def test_dump_is_deterministic_and_ordered() -> None:
    text = dump_paper(make("Title"))
    assert text == dump_paper(make("Title"))
    keys = [line.split(":")[0] for line in text.splitlines()[1:13]]
    assert keys == ["id", "title", "published", "authors", "submitter", "comments", "sources",
                    "- file", "  line", "themes", "tags", "- code"]


@pytest.mark.parametrize(("text", "line", "field"), [
    ("---\nid: x\ntitle: T\nauthors: many\n---\nBody\n", 4, "authors"),
    ("---\nid: x\ntitle: T\npublished: 2024-02-30\n---\nBody\n", 4, "published"),
    ("---\nid: x\ntitle: T\nfeatured: perhaps\n---\n", 4, "featured"),
    ("---\nid: x\ntitle: T\ntags: 3\n---\n", 4, "tags"),
    ("---\nid: x\n---\n", 1, "title"),
    ("---\nid: x\ntitle: T\nsources:\n- file: a\n---\n", 4, "sources"),
])
def test_bad_fields_name_file_line_and_field(text: str, line: int, field: str) -> None:
    with pytest.raises(ContentError) as info:
        load_paper(text, Path("content/papers/p.md"))
    assert info.value.file == "content/papers/p.md"
    assert info.value.line == line
    assert f"'{field}'" in str(info.value)


@pytest.mark.parametrize(("text", "line"), [
    ("no front matter\n", 1),
    ("---\nid: x\ntitle: T\n", 1),
    ("---\nid: x\ntitle: [unclosed\nnote: y\n---\n", 4),
])
def test_broken_front_matter_names_the_line(text: str, line: int) -> None:
    with pytest.raises(ContentError) as info:
        load_paper(text, Path("p.md"))
    assert info.value.line == line


def test_unknown_key_is_a_warning_not_an_error() -> None:
    warnings: list[Diagnostic] = []
    paper = load_paper("---\nid: x\ntitle: T\ncolour: blue\n---\nB\n", Path("p.md"), warnings)
    assert paper.title == "T"
    assert warnings == [Diagnostic("p.md", 4, "unknown field 'colour' ignored")]


FRONT_PIECES = st.sampled_from([
    "---\n", "id: x\n", "title: T\n", "title: [\n", "published: 2024-02-30\n",
    "published: 2024-01-01\n", "authors: -1\n", "authors: 3\n", "tags: [a, b]\n", "tags: 7\n",
    "sources:\n- file: a\n  line: 2\n", "sources: {}\n", "note: |\n  multi\n", "\t\n", ": :\n",
    "hidden: maybe\n", "&a x\n", "*a\n", "!!python/object:os.system\n", "\ufeff", "\r\n",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(FRONT_PIECES | st.text(max_size=30), max_size=14).map("".join))
def test_any_file_text_gives_a_paper_or_a_content_error(text: str) -> None:
    # Whatever a curator (or a broken editor) leaves in a file, the loader either reads
    # a paper or names the file in a ContentError: never a crash, never code execution.
    try:
        paper = load_paper(text, Path("content/papers/p.md"))
    except ContentError as exc:
        assert exc.file == "content/papers/p.md"
    else:
        assert paper.title.strip() and isinstance(paper.id, str)


def test_set_list_fields_changes_only_those_lines() -> None:
    from site_builder.content import set_list_fields

    paper = Paper(id="x", slug="s", title="- null", abstract="Body\n\nmore", published=None,
                  authors=None, submitter="org: x", comments=None,
                  sources=(SourceRef("d.txt", 3),), note="a\nnote")
    text = dump_paper(paper)
    pinned = set_list_fields(text, "s.md", {"themes": ["a", "b"], "not_themes": []})
    assert load_paper(pinned, Path("s.md")).themes == ("a", "b")
    removed = [line for line in text.split("\n") if line not in pinned.split("\n")]
    assert removed == ["themes: []"]
    none = set_list_fields(pinned, "s.md", {"themes": [], "not_themes": ["a", "c"]})
    loaded = load_paper(none, Path("s.md"))
    assert (loaded.themes, loaded.not_themes) == ((), ("a", "c"))
    assert none == dump_paper(replace(paper, not_themes=("a", "c")))  # ingest's layout
    back = set_list_fields(none, "s.md", {"themes": [], "not_themes": []})
    assert back == text
    with pytest.raises(ContentError):
        set_list_fields(text.replace("\n", "\r\n"), "s.md", {"themes": ["a"]})
