"""How the search index is cut into shards, and what each shard is made from.

In: the outputs of a build (site-relative path -> fingerprint). Out: the shards (name ->
the paper pages in it), each shard's key, and the manifest (``pagefind/shards.json``)
that lists the published shards for the search page and for the next build.

Why shards: one index over every paper had to be made again after any edit, in time
growing with the whole site. Each shard is its own Pagefind index, so an edit re-indexes
only the shard of the paper it touched, and shards are made side by side. The browser
searches them together (Pagefind's ``mergeIndex``, static/search.js).

Why a hash of the slug: a paper stays in its shard however the site changes (by year,
the shards would be very unequal, recent years being most of the site, and a date edit
would move a paper), and the shards come out of equal size, so they take equal time to
index and their word statistics stay alike: Pagefind scores a page against its own
shard (word rarity, page length) and the browser ranks all shards' results together.

Why the number grows with the site (one shard per ``PAGES_PER_SHARD`` papers, at most
``MAX_SHARDS``): a small shard scores unlike the whole site, and a query word missing
from a shard makes Pagefind match that shard's pages on a shorter prefix of it, so
more shards cost result quality and, per search, a few requests each; an index of a
few hundred papers is made in seconds anyway and stays one shard, searched as before.
At 5,000 papers there are 8, which gives both cores work and an edit one eighth of the
index to make. When the number changes (once per ``PAGES_PER_SHARD`` papers added) every
paper moves and the whole index is made again, once.

Only paper pages are searchable (their template marks what of them is indexed, see
templates/README.md): a listing page changes with any paper on it, and fed to a shard
it would make that shard be indexed again for nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from site_builder.incremental.engine import digest

PAGES_PER_SHARD = 600
MAX_SHARDS = 16
SCHEME = "slug-blake2b"
"""Names the assignment below (with the shard count, ``scheme``): in every shard key and
in the manifest, so changing either makes every shard again."""
MANIFEST = "shards.json"
ENTRY = "pagefind-entry.json"


def searchable(path: str) -> bool:
    """A paper page: ``papers/SLUG/index.html`` (urls.paper_path)."""
    parts = path.split("/")
    return len(parts) == 3 and parts[0] == "papers" and parts[2] == "index.html"


def shard_count(papers: int) -> int:
    return max(1, min(MAX_SHARDS, papers // PAGES_PER_SHARD))


def scheme(count: int) -> str:
    return f"{SCHEME}/{count}"


def shard_of(path: str, count: int) -> str:
    slug = path.split("/")[1]
    number = int.from_bytes(hashlib.blake2b(slug.encode("utf-8"), digest_size=8).digest(),
                            "big") % count
    return f"shard-{number:02d}"


def plan(paths: Iterable[str]) -> tuple[str, dict[str, list[str]]]:
    """The scheme, and shard name -> its pages in path order; a shard with no page is
    left out (an empty Pagefind index has no language: the browser refuses to load it)."""
    pages = sorted(p for p in paths if searchable(p))
    count = shard_count(len(pages))
    shards: dict[str, list[str]] = {}
    for path in pages:
        shards.setdefault(shard_of(path, count), []).append(path)
    return scheme(count), dict(sorted(shards.items()))


def shard_key(scheme: str, name: str, pages: list[str], page_digest: Callable[[str], str],
              engine: str) -> str:
    """What a shard is made from: the part of each of its pages that Pagefind reads
    (``page_digest``, see page_digest), the engine (the code and library versions,
    Pagefind's included) and the scheme."""
    return digest("search-shard", scheme, engine, name, *map(page_digest, pages))


def page_digest(path: str, html: bytes) -> str:
    return digest(path, indexed_part(html))


_BODY = b"data-pagefind-body"
_MARK = b"data-pagefind-"
_TAG_NAME = re.compile(rb"<([A-Za-z][A-Za-z0-9-]*)")


def indexed_part(html: bytes) -> bytes:
    """The bytes of a page that can change its search record: everything up to the end
    of its last ``data-pagefind-body`` element, and any tag after it that carries a
    ``data-pagefind-`` attribute. Why not the page's fingerprint: a paper page also
    shows other papers (related papers, after the indexed article), so an abstract edit
    changes the fingerprints of the pages that list it, in other shards, while what
    Pagefind indexes of them stays the same. A page whose body is not found counts whole.
    (Plain searches, not regular expressions: this can read every paper page.)"""
    at = html.rfind(_BODY)
    start = html.rfind(b"<", 0, at)
    name = _TAG_NAME.match(html, start) if at >= 0 and start >= 0 else None
    if name is None or b">" in html[start:at]:
        return html
    end = _element_end(html, name.group(1), html.find(b">", at) + 1)
    if end is None:
        return html
    tail = []
    at = html.find(_MARK, end)
    while at >= 0:
        tag_start, tag_end = html.rfind(b"<", end, at), html.find(b">", at)
        if tag_start < 0 or tag_end < 0:
            return html
        tail.append(html[tag_start:tag_end + 1])
        at = html.find(_MARK, tag_end)
    return html[:end] + b"".join(tail)


_HTML_TAG = re.compile(rb"<html[\s>][^>]*>?")
_TITLE = re.compile(rb"<title>[^<]*</title>")


def searched_part(html: bytes) -> bytes:
    """What Pagefind is given of a page: its ``<html>`` tag, its ``<title>`` and its one
    ``data-pagefind-body`` element, which is all Pagefind reads of a page that has one
    and no other ``data-pagefind-`` attribute outside it (tested: the same index, byte
    for byte, as the whole page gives). A paper page is a third of its bytes (its head
    repeats the abstract for reference managers), and Pagefind indexed a shard's pages
    a quarter faster. Any other page is given whole."""
    at = html.find(_BODY)
    if at < 0 or html.find(_BODY, at + 1) >= 0:
        return html
    start = html.rfind(b"<", 0, at)
    name = _TAG_NAME.match(html, start) if start >= 0 else None
    if name is None or b">" in html[start:at]:
        return html
    end = _element_end(html, name.group(1), html.find(b">", at) + 1)
    if end is None or html.find(_MARK, 0, start) >= 0 or html.find(_MARK, end) >= 0:
        return html
    opening, title = _HTML_TAG.search(html, 0, start), _TITLE.search(html, 0, start)
    if opening is None or title is None or not opening.group().endswith(b">"):
        return html
    return (b"<!DOCTYPE html>\n" + opening.group() + b'<head><meta charset="utf-8">'
            + title.group() + b"</head><body>" + html[start:end] + b"</body></html>\n")


def _element_end(html: bytes, name: bytes, start: int) -> int | None:
    """Where the element whose start tag ends at ``start`` closes (same-name elements
    inside it counted), or None. Tag names as the templates write them, lower case."""
    opening, closing = b"<" + name, b"</" + name + b">"
    depth, at = 1, start
    while True:
        close = html.find(closing, at)
        if close < 0:
            return None
        inner = html.find(opening, at, close)
        while inner >= 0:
            if html[inner + len(opening):inner + len(opening) + 1] in (b" ", b">", b"\n"):
                depth += 1
            inner = html.find(opening, inner + 1, close)
        depth -= 1
        at = close + len(closing)
        if depth == 0:
            return at


def manifest_bytes(scheme: str, keys: dict[str, str]) -> bytes:
    """The shards in name order, the first being the one the browser loads first."""
    shards = [{"path": f"{name}/", "key": key} for name, key in sorted(keys.items())]
    return (json.dumps({"scheme": scheme, "shards": shards}, indent=1) + "\n").encode()


def read_manifest(folder: Path, scheme: str) -> dict[str, str]:
    """The shards a published index of this scheme holds (name -> key), each checked to
    be on disk; empty without a readable manifest (then every shard is made again)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if data["scheme"] != scheme:
            return {}
        keys = {str(s["path"]).rstrip("/"): str(s["key"]) for s in data["shards"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return {name: key for name, key in keys.items()
            if name.startswith("shard-") and "/" not in name
            and (folder / name / ENTRY).is_file()}


def in_shard(rel: str) -> bool:
    """Whether a file of a Pagefind bundle belongs in a shard's folder: the index, and
    what Pagefind fetches from the folder of the index it loads first (its WebAssembly
    and web worker; every shard has them, as any shard may come first when papers are
    added or removed, and a shard must not change with its neighbours). The rest
    (pagefind.js and the UI) is the same for every shard, published once in ``pagefind/``."""
    return ("/" in rel or rel == ENTRY or rel.endswith(".pf_meta")
            or rel.startswith("wasm.") or rel == "pagefind-worker.js")
