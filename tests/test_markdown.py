"""Markdown: the quick linkify pretest answers exactly as linkify-it's own."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from linkify_it import LinkifyIt

from site_builder.content import read_paper
from site_builder.render.markdown import quick_linkify
from tests.conftest import REPO

QUICK, PLAIN = quick_linkify(), LinkifyIt()
# Pieces near every decision of the pretest: schemas in any case, what may or may not
# come before them (start, space, punctuation, "_", letters, Unicode spaces and
# punctuation), hosts, "www.", "@", dots and digits.
PIECES = ["http:", "HTTPS:", "ftp:", "//", "mailto:", "MailTo:", "_", "a", "Z", "9", " ",
          "\u3000", "\u00a0", "\uff5c", ">", "<", "(", "\u2014", ".", "@", "www.", "x.com",
          ".org", ".1.", "localhost", "\n", "\u0000", "\u202e", "é", "ſ", "\u212a"]


def test_quick_pretest_is_in_use() -> None:
    assert QUICK._quick  # linkify-it still builds its schema regex the way we read it


def test_same_answer_on_every_real_abstract() -> None:
    for path in sorted((REPO / "content" / "papers").glob("*.md")):
        text = read_paper(Path(path)).abstract
        assert QUICK.pretest(text) == PLAIN.pretest(text), path.name


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=12))
def test_same_answer_on_generated_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert QUICK.pretest(text) == PLAIN.pretest(text), repr(text)
