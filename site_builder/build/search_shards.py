"""How the search index is cut into shards, and what each shard is made from.

In: the outputs of a build (site-relative path -> fingerprint). Out: the shards (name ->
the paper pages in it), each shard's key, and the manifest (``pagefind/shards.json``)
that lists the published shards for the search page and for the next build.

Why shards: one index over every paper had to be made again after any edit, in time
growing with the whole site. Each shard is its own Pagefind index, so an edit re-indexes
only the shard of the paper it touched, and shards are made side by side. The browser
searches them together (Pagefind's ``mergeIndex``, static/search.js).

Why a hash of the slug into a fixed number: a paper stays in its shard however the site
grows or changes (by year, the shards would be very unequal, recent years being most of
the site, and a date edit would move a paper), and the shards come out of equal size, so
they take equal time to index and their word statistics, from which Pagefind scores a
page in its own shard, stay alike (results of all shards are ranked together). Why 8:
a search loads a few files from each shard, so more shards cost the reader requests,
fewer cost the writer time per edit; 8 keeps both small and gives both cores work.

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

SHARDS = 8
SCHEME = "slug-blake2b-8"
"""Names the assignment below: part of every shard key, so changing it re-indexes all."""
MANIFEST = "shards.json"
ENTRY = "pagefind-entry.json"


def searchable(path: str) -> bool:
    """A paper page: ``papers/SLUG/index.html`` (urls.paper_path)."""
    parts = path.split("/")
    return len(parts) == 3 and parts[0] == "papers" and parts[2] == "index.html"


def shard_of(path: str) -> str:
    slug = path.split("/")[1]
    number = int.from_bytes(hashlib.blake2b(slug.encode("utf-8"), digest_size=8).digest(),
                            "big") % SHARDS
    return f"shard-{number:02d}"


def plan(paths: Iterable[str]) -> dict[str, list[str]]:
    """Shard name -> its pages in path order; a shard with no page is left out (an
    empty Pagefind index has no language, and the browser refuses to load it)."""
    shards: dict[str, list[str]] = {}
    for path in sorted(p for p in paths if searchable(p)):
        shards.setdefault(shard_of(path), []).append(path)
    return dict(sorted(shards.items()))


def shard_key(name: str, pages: list[str], read: Callable[[str], bytes], engine: str) -> str:
    """What a shard is made from: the part of each of its pages that Pagefind reads,
    the engine (the code and library versions, Pagefind's included) and the scheme.
    Pages are read one at a time: a large site's pages are not all held at once."""
    return digest("search-shard", SCHEME, engine, name,
                  *(digest(path, indexed_part(read(path))) for path in pages))


_BODY = re.compile(rb"<([A-Za-z][A-Za-z0-9-]*)\b[^>]*\sdata-pagefind-body\b")
_MARKED = re.compile(rb"<[^>]*\sdata-pagefind-[^>]*>")


def indexed_part(html: bytes) -> bytes:
    """The bytes of a page that can change its search record: everything up to the end
    of its last ``data-pagefind-body`` element, and any tag after it that carries a
    ``data-pagefind-`` attribute. Why not the page's fingerprint: a paper page also
    shows other papers (related papers, after the indexed article), so an abstract edit
    changes the fingerprints of the pages that list it, in other shards, while what
    Pagefind indexes of them stays the same. A page whose body is not found counts whole."""
    bodies = list(_BODY.finditer(html))
    if not bodies:
        return html
    last = bodies[-1]
    end = _element_end(html, last.group(1), last.end())
    if end is None:
        return html
    return html[:end] + b"".join(m.group() for m in _MARKED.finditer(html, end))


def _element_end(html: bytes, name: bytes, start: int) -> int | None:
    """Where the element whose start tag ends after ``start`` closes (same-name
    elements inside it counted), or None."""
    depth = 1
    tags = re.compile(rb"<(/?)" + re.escape(name) + rb"\b[^>]*>", re.IGNORECASE)
    for tag in tags.finditer(html, start):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return None


def manifest_bytes(keys: dict[str, str]) -> bytes:
    """The shards in name order, the first being the one the browser loads first."""
    shards = [{"path": f"{name}/", "key": key} for name, key in sorted(keys.items())]
    return (json.dumps({"scheme": SCHEME, "shards": shards}, indent=1) + "\n").encode()


def read_manifest(folder: Path) -> dict[str, str]:
    """The shards a published index holds (name -> key), each checked to be on disk;
    empty when there is no readable manifest (then every shard is made again)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if data["scheme"] != SCHEME:
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
