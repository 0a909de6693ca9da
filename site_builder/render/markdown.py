"""Markdown -> HTML for abstracts, notes and pages, with raw HTML off.

In: untrusted Markdown text. Out: HTML where any tag in the text is escaped, bare URLs
are links (linkify), and links with unsafe schemes (javascript:, data:, vbscript:)
are refused by markdown-it's validateLink. Bidi override characters and other invisible
controls are removed (strip_invisible), so a title or abstract cannot reorder the text
around it.
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
    if text.isascii() and text.isprintable():  # the common case, ten times faster
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


def render_markdown(text: str) -> str:
    html: str = _parser().render(strip_invisible(text))
    return html
