"""The plain-text fast path: whatever it renders, markdown-it renders the same bytes."""

from __future__ import annotations

import re
import string
import subprocess
import sys

from hypothesis import event, given, settings
from hypothesis import strategies as st
from linkify_it import LinkifyIt
from linkify_it.ucre import SRC_ZPCC, TEXT_SEPARATORS

from site_builder.content import read_paper
from site_builder.ingest.dumps import read_dump
from site_builder.render.markdown import _parser, plain_html, render_markdown, strip_invisible
from site_builder.render.pages import load_pages
from tests.conftest import REPO


def markdown_it(text: str) -> str:
    html: str = _parser().render(text)
    return html


def real_texts() -> list[str]:
    """Every abstract and note of content/papers, every abstract of content/dumps, and
    the pages' bodies."""
    texts: list[str] = []
    for path in sorted((REPO / "content" / "papers").glob("*.md")):
        paper = read_paper(path)
        texts += [paper.abstract, paper.note, paper.title]
    for path in sorted((REPO / "content" / "dumps").iterdir()):
        texts += [entry.abstract for entry in read_dump(path, None).entries]
    load_pages(REPO / "content" / "pages", lambda body: texts.append(body) or "")
    return texts


def test_every_real_text_renders_as_markdown_it_renders_it() -> None:
    claimed = 0
    for text in real_texts():
        clean = strip_invisible(text)
        assert render_markdown(text) == markdown_it(clean), text
        claimed += plain_html(clean) is not None
    assert claimed, "the fast path rendered no real abstract"


# Pieces near every decision of plain_html and of markdown-it: line endings, blank and
# indented lines, trailing spaces (hard breaks), tabs, the characters that escape, that
# may start an entity, an autolink, a block or inline syntax, a link for linkify (links
# with a scheme, dots and top-level domains, case-folded letters), typographer and
# smart-quote bait, and Unicode spaces markdown-it trims or keeps.
PIECES = ["a", "Word", " ", "  ", "   ", "    ", "\t", " \t", "\n", "\n\n", "\r\n", "\r",
          "\n  \n", "\n\t\n", "&", "&amp;", "&AMP;", "&#35;", "&#x41;", "&nosuch;", "&copy",
          "<", ">", '"', "'", "<a", "<5", "<http:x>", "1.", "2)", "10.", "-", "+", "#", "=",
          "|", ":", "!", "(", ")", "*", "_", "~", "~~", "`", "\\", "[", "]", "{", "}", "$", "%",
          "\n=", "\n---", "\n# ", "\n> ", "\n- ", "\n+ ", "\n1. ", "\n|-|", "\n:-", "\n<",
          "^", ".", "e.g.", ".c", ".co", ".com", ".Com.", ".In", ".рф", ".xn--p1ai", "a.b",
          ".1.", "1.5", "www.", "WWW.", "localhost", "LOCALHO\u017fT", "\u212a", "http:",
          "mailto:", "//", "@", "http://x", "HTTPS://1.2", "ftp://y", "//localhost",
          "mailto:a@b", "a@b.co", "(c)", "--", "...", "\u00a0", "\u3000", "\u2003", "\u1680",
          "\u2028", "\u0085", "\x1c", "\x0b", "\x00", "\ufeff", "\u202e", "é", "日本語", "😀"]
PLAIN_PIECES = ["a", "Word", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", "\n \n",
                "&", "<", ">", '"', "'", ",", ".", "e.g.", ";", "?", "(", ")", "é", "日本語",
                "1", "\u00a0", "\u3000"]


def agrees(text: str) -> None:
    fast = plain_html(text)
    event("rendered by the fast path" if fast is not None else "declined")
    if fast is not None:
        assert fast == markdown_it(text), repr(text)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=16))
def test_same_html_on_generated_text(pieces: list[str]) -> None:
    agrees("".join(pieces))


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PLAIN_PIECES), max_size=24))
def test_same_html_on_generated_prose(pieces: list[str]) -> None:
    agrees("".join(pieces))


def test_fast_path_takes_plain_prose() -> None:
    """The fast path is used: paragraphs, line endings, breaks, escapes, Unicode."""
    texts = ["One sentence.", "A & B < C > D \"E\" 'F'", "First.\n\nSecond.\r\n\r\nThird.",
             "  lead and trail  ", "soft\nbreak", "hard  \nbreak", "tab\t\nkept",
             "next\n   line", "e.g. Q&A, i.e. 5 < 6", "Unicode: é 日本語 \u00a0inside",
             "", " \n\t\n"]
    for text in texts:
        assert plain_html(text) == markdown_it(text), repr(text)


def test_plain_prose_needs_no_parser() -> None:
    """A rebuild whose texts are all plain does not import markdown-it (nor build it)."""
    probe = ("import sys\nfrom site_builder.render.markdown import render_markdown\n"
             "render_markdown('Plain prose, with an & and a <.')\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('markdown_it', 'linkify_it')))\n"
             "render_markdown('*emphasis*')\n"
             "print('markdown_it' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    assert out[:2] == ["[]", "True"]


def test_linkify_needs_what_the_fast_path_declines() -> None:
    """plain_html's domain check assumes linkify-it's top-level domains are two or more
    letters that no letter or digit follows: check both against linkify-it itself."""
    linkify = LinkifyIt()
    pairs = [f"{a}{b}" for a in string.ascii_lowercase for b in string.ascii_lowercase]
    tlds = [*linkify.tlds_default,
            *(pair for pair in pairs if re.fullmatch(linkify.tlds_2ch_src_re, pair))]
    assert len(tlds) > len(linkify.tlds_default)
    assert all(re.fullmatch(r"[^\W\d_]{2,}", tld) for tld in tlds)
    assert linkify.re["src_xn"].startswith("xn--")
    ends = re.compile(f"{SRC_ZPCC}|{TEXT_SEPARATORS}")
    alnum = (chr(code) for code in range(sys.maxunicode + 1) if chr(code).isalnum())
    assert not any(ends.fullmatch(char) for char in alnum)


def test_markdown_it_trims_only_unicode_spaces() -> None:
    """plain_html leaves to markdown-it a paragraph that begins or ends with a character
    str.isspace names: all markdown-it trims (str.strip() before markdown-it-py 4)."""
    from markdown_it.common import utils

    trimmed = getattr(utils, "MD_TRIM_CHARS", "")
    assert all(char.isspace() for char in trimmed)


def test_parser_has_the_rules_the_fast_path_knows() -> None:
    """plain_html declines what these rules could act on: a rule or option added to the
    parser needs its own reason to decline there first."""
    md = _parser()
    assert md.core.ruler.get_active_rules() == ["normalize", "block", "inline", "linkify",
                                                "text_join"]
    assert md.block.ruler.get_active_rules() == [
        "table", "code", "fence", "blockquote", "hr", "list", "reference", "html_block",
        "heading", "lheading", "paragraph"]
    assert md.inline.ruler.get_active_rules() == [
        "text", "linkify", "newline", "escape", "backticks", "strikethrough", "emphasis",
        "link", "image", "autolink", "html_inline", "entity"]
    assert (md.options["html"], md.options["typographer"], md.options["breaks"],
            md.options["xhtmlOut"]) == (False, False, False, True)
