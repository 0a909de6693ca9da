"""The only place that makes output paths and links.

In: a base URL (``https://user.github.io/repo/``) and site-relative paths.
Out: output file paths (``papers/<slug>/index.html``), links that carry the base path
(``/repo/papers/<slug>/``, valid from any depth, so the 404 page works wherever Pages
serves it) and absolute URLs for canonical links, feeds and the sitemap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import quote, urlsplit


@dataclass(frozen=True)
class Urls:
    base_url: str  # absolute, ends with "/"

    @cached_property
    def base_path(self) -> str:
        """``/repo/`` for a project site, ``/`` at a domain root."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    def url(self, path: str) -> str:
        """Link to a site-relative path, with the base path: ``url('tags/')`` -> ``/repo/tags/``."""
        return self.base_path + _quote_path(path)

    def abs_url(self, path: str) -> str:
        return self.base_url + _quote_path(path)


_SAFE = "/#?=&.-_~"
"""What a path keeps as it is besides ASCII letters and digits (quote always does)."""
_UNQUOTED = re.compile(r"[A-Za-z0-9/#?=&._~-]*")


@lru_cache(maxsize=65536)
def _quote_path(path: str) -> str:
    # Pure and called tens of thousands of times per build (every card, chip and page
    # link), so memoised; and most paths need no quoting at all, which a regex says
    # in a tenth of quote's time (tested equal).
    path = path.lstrip("/")
    return path if _UNQUOTED.fullmatch(path) else quote(path, safe=_SAFE)


def output_path(page_path: str) -> str:
    """File that serves a site-relative page path: ``papers/x/`` -> ``papers/x/index.html``."""
    path = page_path + "index.html" if page_path == "" or page_path.endswith("/") else page_path
    parts = path.split("/")
    if path.startswith("/") or "" in parts or "." in parts or ".." in parts:
        raise ValueError(f"unsafe output path {page_path!r}")
    return path


def paper_path(slug: str) -> str:
    return f"papers/{slug}/"


def theme_path(slug: str, page: int = 1) -> str:
    return f"themes/{slug}/" + (f"page/{page}/" if page > 1 else "")


def tag_path(slug: str, page: int = 1) -> str:
    return f"tags/{slug}/" + (f"page/{page}/" if page > 1 else "")


def year_path(label: str, page: int = 1) -> str:
    return f"archive/{label.lower()}/" + (f"page/{page}/" if page > 1 else "")


def section_path(name: str, page: int = 1) -> str:
    return f"{name}/" + (f"page/{page}/" if page > 1 else "")


def paper_output(slug: str) -> str:
    """``output_path(paper_path(slug))`` without its checks, which a slug passes by
    construction (content.SLUG_NAME: one path segment, never "." or ".."): a whole
    build asks for it 60,000 times at 20,000 papers (tested equal)."""
    return f"papers/{slug}/index.html"


def paper_bib_path(slug: str) -> str:
    """A paper's BibTeX file, named after it (a download keeps a telling name)."""
    return f"papers/{slug}/{slug}.bib"


def theme_bib_path(slug: str) -> str:
    return f"themes/{slug}/{slug}.bib"


def json_feed_path(section: str) -> str:
    """The JSON Feed of a section (the third format, beside feed_paths')."""
    return f"{section}feed.json"


def feed_paths(section: str) -> tuple[str, str]:
    """(RSS, Atom) paths of the feed of a section ('' for the whole site, 'themes/x/', ...)."""
    return f"{section}feed.xml", f"{section}atom.xml"
