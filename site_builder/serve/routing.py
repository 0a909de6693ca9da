"""Routing like GitHub Pages: what the preview answers for a path, from the built site.

In: the output folder, the site's base path, a request's raw path and query.
Out: a Reply (status, body, headers). ``/`` redirects to the base path, anything else
outside it is 404, ``dir`` -> ``dir/`` (301), ``dir/`` -> ``dir/index.html``, an unknown
path gets the site's own 404.html with status 404. Nothing outside the folder is ever
read; a name the filesystem refuses (too long, not a folder) is a 404, not an error.
"""

from __future__ import annotations

import html
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

NAME_MAX = 255
"""Bytes in one file name (ext4, tmpfs, APFS...): a longer path segment is never a page."""


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_html(self) -> bool:
        return self.headers.get("Content-Type", "").startswith("text/html")


def _redirect(status: int, location: str) -> Reply:
    return Reply(status, headers={"Location": location})


def _file(path: Path, status: int = 200) -> Reply:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/xml", "application/javascript",
                                            "application/json"):
        kind += "; charset=utf-8"
    return Reply(status, path.read_bytes(), {"Content-Type": kind})


def page(status: int, title: str, body: str) -> Reply:
    doc = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
           '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;'
           'padding:0 1rem}pre{background:#fee;border:1px solid #c33;padding:1rem;'
           f'white-space:pre-wrap}}</style></head><body>\n<h1>{title}</h1>\n{body}\n</body></html>\n')
    return Reply(status, doc.encode(), {"Content-Type": "text/html; charset=utf-8"})


def route(out: Path, base: str, raw_path: str, query: str = "") -> Reply:
    """What GitHub Pages answers for ``raw_path`` when the site in ``out`` lives at ``base``."""
    path = unquote(raw_path)
    suffix = f"?{query}" if query else ""
    if path != base and (path == "/" or path + "/" == base):
        return _redirect(302 if path == "/" else 301, base + suffix)
    rel = path[len(base):] if path.startswith(base) else None
    if rel is None or "\x00" in rel or any(p in (".", "..") for p in rel.split("/")):
        link = html.escape(base)
        return page(404, "Not found", f'<p>Outside the site, which lives at <a href="{link}">'
                                       f"{link}</a>.</p>")
    if any(len(part.encode("utf-8", "surrogateescape")) > NAME_MAX for part in rel.split("/")):
        return _not_found(out)  # no file name is that long: the OS would refuse it anyway
    try:
        return _serve_file(out, rel, raw_path, suffix)
    except OSError:  # a name the filesystem refuses (too long, not a folder...): not here
        return _not_found(out)


def _not_found(out: Path) -> Reply:
    if (out / "404.html").is_file():
        return _file(out / "404.html", 404)
    return page(404, "Not found", "<p>No page here, and the site has no 404.html.</p>")


def _serve_file(out: Path, rel: str, raw_path: str, suffix: str) -> Reply:
    root = out.resolve()
    target = (root / rel).resolve()
    if target != root and root not in target.parents:
        return page(404, "Not found", "<p>Outside the site.</p>")
    if target.is_dir():
        if rel and not rel.endswith("/"):
            return _redirect(301, raw_path + "/" + suffix)
        target = target / "index.html"
    if target.is_file():
        return _file(target)
    return _not_found(root)


def inject(body: bytes, script: bytes) -> bytes:
    """Put the reload script before the last ``</body>`` (or at the end)."""
    at = body.lower().rfind(b"</body>")
    return body + script if at < 0 else body[:at] + script + body[at:]
