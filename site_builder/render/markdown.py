"""Markdown -> HTML for abstracts, notes and pages, with raw HTML off.

In: untrusted Markdown text. Out: HTML where any tag in the text is escaped, bare URLs
are links (linkify), and links with unsafe schemes (javascript:, data:, vbscript:)
are refused by markdown-it's validateLink. Bidi override characters and other invisible
controls are removed (strip_invisible), so a title or abstract cannot reorder the text
around it.

Most abstracts are plain prose: plain_html renders those as markdown-it would (same
bytes, tested on every real abstract and on generated text) without importing or
building the parser, and declines everything else.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported on first use: a rebuild often renders no Markdown at all
    from markdown_it import MarkdownIt

# Characters that show nothing but can change what the text around them looks like or
# means: bidi embeddings, overrides, isolates and marks (U+202A..U+202E, U+2066..U+2069,
# U+200E/F, U+061C), C0 and C1 controls (tab, line feed and carriage return are kept:
# they are whitespace, and XML allows them), zero-width space, word joiner and the
# invisible operators (U+200B, U+2060..U+2064), the byte-order mark and the
# interlinear annotation marks. Not U+200C/U+200D (ZWNJ/ZWJ): Persian, Indic scripts
# and emoji need them.
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f"
                       "\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]")
# Line and paragraph separators end a line in JavaScript and some readers: a space.
SEPARATORS = re.compile("[\u2028\u2029]")


def strip_invisible(text: str) -> str:
    """Text without invisible control characters: what every title, attribute value,
    feed, OPML, sitemap and JSON field carries (and what Markdown is rendered from)."""
    # Every character removed or replaced here is unprintable to Python (a control, a
    # format character or a line/paragraph separator; tested over every code point), so
    # printable text, accented and CJK included, is returned as it is, without a scan.
    if text.isprintable():
        return text
    return SEPARATORS.sub(" ", INVISIBLE.sub("", text))


strip_bidi = strip_invisible
"""The older name: bidi controls are among what strip_invisible removes."""


def quick_linkify() -> Any:
    """linkify-it with a faster ``pretest`` (same answers, tested on every real abstract
    and on generated text).

    markdown-it asks ``pretest`` of every paragraph, and linkify-it answers with one
    regex whose first branch (a schema such as ``http:`` after a space or punctuation)
    is tried at every position against large Unicode classes: 0.26 ms an abstract, half
    of its Markdown time. Looking for the schemas first and checking the character
    before each one gives the same answer in a few microseconds.
    """
    from linkify_it import LinkifyIt

    class QuickLinkify(LinkifyIt):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            before = "(?!_)(?:[><\uff5c]|" + self.re["src_ZPCc"] + ")"
            test = self.re["schema_test"]
            head = f"(^|{before})("
            # The schema regex as linkify-it builds it; anything else: its own pretest.
            self._quick = test.startswith(head) and test.endswith(")")
            if self._quick:
                self._schemas = re.compile(f"(?=(?:{test[len(head):-1]}))", re.IGNORECASE)
                self._before = re.compile(before, re.IGNORECASE)
                self._host = re.compile(self.re["host_fuzzy_test"], re.IGNORECASE)

        def pretest(self, text: str) -> bool:
            if not self._quick:
                return bool(super().pretest(text))
            if "@" in text or self._host.search(text):
                return True
            return any(m.start() == 0 or self._before.match(text, m.start() - 1)
                       for m in self._schemas.finditer(text))

    return QuickLinkify()


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.linkify = quick_linkify()
    md.enable("linkify")
    md.enable("table")
    md.enable("strikethrough")
    return md


# What plain_html declines, and why (each is a superset of what markdown-it, with the
# rules and options _parser enables, could turn into anything but escaped text):
# Anywhere in the text: backslash escapes, ` code, * and _ emphasis, ~ strikethrough, [ and ]
# links, images and references, @ e-mail links (linkify), NUL (becomes U+FFFD).
_SYNTAX_CHARS = "\\`*_~[]@\0"
# Autolinks (<scheme:...>; html_inline is off, so no other tag is markup) and entities
# (&name; &#9; &#x9;): ``\w+;`` holds every name markdown-it's entity pattern matches.
_AUTOLINK_OR_ENTITY = re.compile(r"<[A-Za-z]|&(?:#|\w+;)")
# Links linkify-it finds: with a scheme, a "//" (http:, https:, ftp:, //) or an "@"
# (mailto:); without one, an "@" (e-mails) or what its host_fuzzy_test matches first:
# "localhost", "www.", a dot then an IPv4 part, or a dot then a top-level domain (two or
# more letters, "xn--" included) that no letter or digit follows. Any run of letters
# passes for a domain here: "e.g." does not, "model.In" does ("in" is one).
_DOMAIN = re.compile(r"\.(?:\d{1,3}\.|[^\W\d_]{2,}(?![^\W_]))")
# Line starts (after spaces and tabs) that may open or end a block: headings, quotes,
# lists, thematic breaks, setext underlines, table delimiter rows, HTML blocks; and an
# indentation of four columns, an indented code block.
_BLOCK_START = re.compile(r"[ \t]*(?:[#>+\-=|:<]|[0-9]+[.)])| {0,3}\t| {4}")


def _escape(text: str) -> str:
    """markdown-it's escapeHtml: & < > " (not ')."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _paragraph(lines: list[str]) -> str | None:
    """The <p> of consecutive non-blank lines, as markdown-it builds it: the paragraph is
    trimmed; inside it each line break drops the spaces and tabs that open the next
    line, and the one space that ends its line, or makes a <br /> of two or more."""
    lines[0] = lines[0].lstrip(" \t")
    lines[-1] = lines[-1].rstrip(" \t")
    # markdown-it trims more than spaces and tabs (U+3000, U+00A0...): left to it.
    if lines[0][0].isspace() or lines[-1][-1].isspace():
        return None
    parts = []
    for index, line in enumerate(lines):
        if index:
            line = line.lstrip(" \t")
        if index == len(lines) - 1:
            parts.append(_escape(line))
        elif line.endswith("  "):
            parts.append(_escape(line.rstrip(" ")) + "<br />\n")
        else:
            parts.append(_escape(line.removesuffix(" ")) + "\n")
    return f"<p>{''.join(parts)}</p>\n"


def plain_html(text: str) -> str | None:
    """What markdown-it renders ``text`` to, for a text that holds no Markdown syntax and
    nothing linkify would make a link of: its paragraphs, escaped. None for any other
    text (which is the parser's to render)."""
    if "\r" in text:  # markdown-it's line endings: \r\n, \r and \n are one
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if any(char in text for char in _SYNTAX_CHARS) or "//" in text:
        return None
    if (("<" in text or "&" in text) and _AUTOLINK_OR_ENTITY.search(text)) or (
            "." in text and _DOMAIN.search(text)):
        return None
    folded = text.casefold()  # as host_fuzzy_test ignores case: "LOCALHO\u017fT" too
    if "localhost" in folded or "www." in folded:
        return None
    paragraphs: list[str] = []
    lines: list[str] = []
    for line in [*text.split("\n"), ""]:
        if line.strip(" \t"):
            if _BLOCK_START.match(line):
                return None
            lines.append(line)
        elif lines:  # a blank line (spaces and tabs only) ends the paragraph
            paragraph = _paragraph(lines)
            if paragraph is None:
                return None
            paragraphs.append(paragraph)
            lines = []
    return "".join(paragraphs)


def render_markdown(text: str) -> str:
    text = strip_invisible(text)
    plain = plain_html(text)
    if plain is not None:
        return plain
    html: str = _parser().render(text)
    return html
