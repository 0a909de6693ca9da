"""Fast paths of text functions every page pays for, each beside its slow reference:
strip_invisible (every value a template shows), BibTeX's protect (every title in a
paper page's Cite block, its .bib and its themes' .bib) and the COinS of every card."""

from __future__ import annotations

import datetime as dt
import sys
from urllib.parse import quote, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.config import load_config
from site_builder.content import load_papers
from site_builder.models import Classification, Paper
from site_builder.render.bibtex import _escape_plain, plain, protect
from site_builder.render.markdown import INVISIBLE, SEPARATORS, strip_invisible
from site_builder.render.scholarly import coins
from site_builder.site import make_entry
from tests.conftest import REPO


def strip_slowly(text: str) -> str:
    return SEPARATORS.sub(" ", INVISIBLE.sub("", text))


def protect_word_by_word(text: str) -> str:
    """protect as it was: each word escaped on its own."""
    words = []
    for word in plain(text).split(" "):
        escaped = _escape_plain(word)
        if any(c.isupper() for c in word):
            escaped = "{" + ("{}" if escaped.startswith("\\") else "") + escaped + "}"
        words.append(escaped)
    return " ".join(words)


def test_everything_stripped_is_unprintable() -> None:
    """The premise of strip_invisible's fast path, over every code point."""
    every = map(chr, range(sys.maxunicode + 1))
    assert not [c for c in every if (INVISIBLE.match(c) or SEPARATORS.match(c))
                and c.isprintable()]


TEXT = st.text(st.sampled_from(
    "aZé日 \t\n\u00a0\u200b\u200d\u202e\u2028\u2029\ufeff\x00\x85%&$#_{}~^\\"
    "ABCxyz-.,'\"")) | st.text()


@given(TEXT)
@settings(max_examples=500)
def test_strip_invisible_equals_its_slow_reference(text: str) -> None:
    assert strip_invisible(text) == strip_slowly(text)


@given(TEXT)
@settings(max_examples=500)
def test_protect_equals_escaping_word_by_word(text: str) -> None:
    assert protect(text) == protect_word_by_word(text)


def test_every_real_title_and_abstract() -> None:
    config = load_config(REPO / "config.yaml")
    papers = load_papers(config.papers_dir, [])
    assert len(papers) > 400
    for paper in papers:
        assert protect(paper.title) == protect_word_by_word(paper.title)
        for text in (paper.title, paper.abstract):
            assert strip_invisible(text) == strip_slowly(text)


def test_coins_equals_urlencoding_every_field() -> None:
    """coins quotes its constant fields once, ahead of time: the same ContextObject as
    urlencode over all of them (the title with every reserved character and non-ASCII)."""
    title = "Ünïcode & <tags> 100% \"quoted\" #1 + a/b?c=d; 日本"
    paper = Paper(id="i", slug="x", title=title, abstract="", published=dt.date(2024, 3, 5),
                  authors=2, submitter=None, comments=None, sources=())
    entry = make_entry(paper, lambda _: Classification((), (), ()), {})
    url = "https://example.github.io/repo/papers/x/"
    assert coins(entry, url) == urlencode(
        [("ctx_ver", "Z39.88-2004"), ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"),
         ("rft.genre", "preprint"), ("rft.atitle", title), ("rft.date", "2024-03-05"),
         ("rft_id", url)], quote_via=quote)
