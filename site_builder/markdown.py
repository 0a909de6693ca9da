"""Markdown -> HTML for abstracts, notes and pages, with raw HTML off.

In: untrusted Markdown text. Out: HTML where any tag in the text is escaped, bare URLs
are links (linkify), and links with unsafe schemes (javascript:, data:, vbscript:)
are refused by markdown-it's validateLink. Bidi override characters are neutralised
so a title or abstract cannot reorder the text around it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported on first use: a rebuild often renders no Markdown at all
    from markdown_it import MarkdownIt

# U+202A..U+202E embeddings/overrides and U+2066..U+2069 isolates.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def strip_bidi(text: str) -> str:
    return BIDI_CONTROLS.sub("", text)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable("linkify")
    md.enable("table")
    md.enable("strikethrough")
    return md


def render_markdown(text: str) -> str:
    html: str = _parser().render(strip_bidi(text))
    return html
