"""A static server that behaves like GitHub Pages for a project site, for browser tests.

In: a built site folder and its base path (``/repo/``). Out: a server on 127.0.0.1 at a
free port, in a background thread. Like Pages: everything outside the base path is 404
(the domain root belongs to someone else), ``dir`` -> 301 ``dir/``, ``dir/`` ->
``dir/index.html``, ``page`` -> ``page.html``, a missing path -> the site's own
404.html with status 404. No directory listings, no caching.
"""

from __future__ import annotations

import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".json": "application/json",
         ".xml": "application/xml", ".svg": "image/svg+xml", ".wasm": "application/wasm",
         ".txt": "text/plain; charset=utf-8", ".opml": "text/x-opml"}


def resolve(root: Path, base: str, url_path: str) -> tuple[int, str]:
    """(200, file) | (301, location) | (404, '') for a request path, as Pages answers."""
    if url_path + "/" == base:
        return 301, base
    if not url_path.startswith(base):
        return 404, ""
    rel = unquote(url_path[len(base):])
    target = (root / rel).resolve()
    if target != root and root not in target.parents:
        return 404, ""
    if rel == "" or rel.endswith("/"):
        return (200, str(target / "index.html")) if (target / "index.html").is_file() else (404, "")
    if target.is_file():
        return 200, str(target)
    if (target / "index.html").is_file():
        return 301, url_path + "/"
    html = target.with_name(target.name + ".html")
    return (200, str(html)) if html.is_file() else (404, "")


class PagesServer:
    """``with PagesServer(site, "/repo/") as server:`` serves at ``server.url``."""

    def __init__(self, root: Path, base: str = "/") -> None:
        self.root, self.base = root.resolve(), base
        self.log: list[tuple[int, str]] = []  # (status, path) of every request
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                       kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{self.base}"

    def __enter__(self) -> PagesServer:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                status, value = resolve(server.root, server.base, path)
                server.log.append((status, path))
                if status == 301:
                    self.send(301, b"", "text/html", {"Location": value})
                elif status == 200:
                    body = Path(value).read_bytes()
                    kind = TYPES.get(Path(value).suffix) or mimetypes.guess_type(value)[0]
                    self.send(200, body, kind or "application/octet-stream")
                else:
                    page = server.root / "404.html"
                    body = page.read_bytes() if path.startswith(server.base) and page.is_file() \
                        else b"<!DOCTYPE html><title>404</title><h1>Not found</h1>"
                    self.send(404, body, TYPES[".html"])

            def do_HEAD(self) -> None:
                self.do_GET()

            def send(self, status: int, body: bytes, kind: str,
                     headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in {"Content-Type": kind, "Content-Length": str(len(body)),
                                    "Cache-Control": "no-store", **(headers or {})}.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

        return Handler
