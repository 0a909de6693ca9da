"""Preview server: build, serve like GitHub Pages, watch the sources, rebuild, live-reload.

In: config.yaml, the output folder, a host and port. Out: the site at
``http://127.0.0.1:8000/<base path>`` that rebuilds on change and reloads the browser.

Choices, and why:

- Same URLs as production. The preview is built with the configured ``site.base_url``
  and served under its path (``/repo/``), so the root-relative links the site carries
  (``/repo/papers/x/``) work unchanged; absolute URLs (canonical, feeds, sitemap) keep
  pointing at production, which is what will be published. Routing copies Pages: ``/``
  redirects to the base path, anything else outside it is 404, ``dir`` -> ``dir/`` (301),
  ``dir/`` -> ``dir/index.html``, an unknown path gets the site's own 404.html, status 404.
- From the ``livereload`` package we use the browser client (``livereload.js``, served by
  its ``LiveReloadJSHandler``) and its websocket protocol, on our own tornado handlers:
  its ``Server`` knows no base path, keeps its state in class attributes and throttles
  reloads instead of debouncing builds. ``/livereload.js`` and ``/livereload`` sit outside
  the base path, where they cannot shadow a page.
- Never a half-built site: ``build_site`` renders everything in memory before syncing
  files, and every build (ingest included) holds a lock that requests also take. A request
  arriving during a build waits for it (asynchronously; the event loop stays free), so a
  response always comes from one complete site, the old one or the new one.
- Watching polls (mtime, size, inode) of content/, templates/, static/ and config.yaml
  every 100 ms; the output folder and dotfiles (editor and atomic-write temporaries) are
  skipped, so a build never triggers itself. A build starts once nothing has changed for
  120 ms (a burst of saves or a git checkout is one build); builds run one at a time in a
  worker thread, and changes during a build schedule exactly one more.
- A changed dump or config.yaml re-runs ingest before the build (idempotent, curator-safe);
  the entries ingest writes are absorbed by the watcher, so they do not trigger a rebuild.
- The curator's review page lives at ``<base path>_review/`` (reviewpage.py): made at
  each request from content/papers/, never written into the site; its writes take
  the project lock, so they land between builds.
- Only requests naming our own address are answered (guard.py: the Host check stops
  DNS rebinding, for pages, livereload.js and its socket alike); a path segment longer
  than a file name can be is 404 without touching the disk; a connection silent for
  ``IDLE`` seconds is closed; binding anything but loopback prints a warning.
- A failed build prints ``FILE:LINE: message`` and, until a build succeeds, pages are
  replaced by an error page (escaped message, status 500) that carries the reload script;
  the previous site stays on disk, assets are still served, the server keeps running.
"""

from __future__ import annotations

import asyncio
import errno
import html
import json
import socket
import sys
import threading
import traceback
import webbrowser
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path

from livereload.handlers import LiveReloadJSHandler
from tornado import httpserver, httputil, netutil, web, websocket

from site_builder.build.pipeline import build_site
from site_builder.config import load_config
from site_builder.errors import SiteBuilderError
from site_builder.incremental.engine import one_engine, running_engine
from site_builder.ingest.merge import ingest
from site_builder.serve.guard import host_allowed, is_loopback
from site_builder.serve.reviewpage import ReviewHandler, ReviewPage
from site_builder.serve.routing import Reply, inject, page, route
from site_builder.serve.watch import POLL, QUIET, Rebuilder, Watcher
from site_builder.urls import Urls

PROTOCOL = "http://livereload.com/protocols/official-7"
IDLE = 30.0
"""Seconds a connection may stay silent (keep-alive, or a request sent slowly) before
the server closes it, so idle or slowloris clients cannot pile up."""
MAX_BODY = 1024 * 1024
Log = Callable[[str], None]


class ServeError(Exception):
    """The server cannot start (the port is taken, the address is not ours)."""


def _say(message: str) -> None:
    print(message, flush=True)


class PreviewServer:
    """The build + watch + serve loop. start() returns once the first build is done and
    the server listens; the event loop, the watcher and the builds run in threads."""

    def __init__(self, config_path: Path, out: Path, host: str = "127.0.0.1", port: int = 8000,
                 *, quiet: float = QUIET, poll: float = POLL, log: Log = _say,
                 idle: float = IDLE) -> None:
        self.config_path = config_path.resolve()
        self.out = out.resolve()
        self.host, self.port = host, port
        self.log = log
        self.idle = idle
        self.base_path = "/"  # from the config at each build; "/" until one has loaded
        self.error: str | None = None  # the last build's error, shown instead of pages
        self.clients: set[websocket.WebSocketHandler] = set()  # event loop thread only
        self.ingests = 0
        # What this process runs, as its builds record it (engine.running_engine).
        self.engine = running_engine()
        self._site_lock = threading.Lock()  # held by a build, and by a request being read
        root = self.config_path.parent
        self.watcher = Watcher([root / "content", root / "templates", root / "static",
                                self.config_path], self.out, self._changed, poll)
        self.rebuilder = Rebuilder(self.build, quiet)
        self.review = ReviewPage(self.config_path, log, self._written)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.base_path}"

    def _changed(self, paths: set[Path]) -> None:
        self.rebuilder.changed(paths)

    def _written(self, path: Path) -> None:
        """The review page wrote ``path``: rebuild now, without waiting for a poll."""
        self.watcher.absorb([path])
        self.rebuilder.changed({path})

    def host_allowed(self, host_header: str | None) -> bool:
        return host_allowed(host_header, self.host, self.port)

    def build(self, changed: frozenset[Path] = frozenset()) -> None:
        """Ingest if a dump or config.yaml changed, then build; report, then reload."""
        dumps = self.config_path.parent / "content" / "dumps"
        lines: list[str] = []
        pending_search = False
        with self._site_lock:
            try:
                config = load_config(self.config_path)
                if any(p == self.config_path or dumps in p.parents for p in changed):
                    with self.watcher.paused():
                        report = ingest(config)
                        self.watcher.absorb(config.papers_dir / f"{slug}.md"
                                            for slug in report.new + report.updated)
                    self.ingests += 1
                    for line in [*map(str, report.warnings),
                                 *report.lines(f"{self.url}_review/")]:
                        self.log(f"ingest: {line}")
                    if report.errors:
                        raise SiteBuilderError("ingest", None, "\n".join(map(str, report.errors)))
                # The browser reloads before the search index is rebuilt (below): the
                # index only matters once someone searches, the page edit at once.
                with one_engine(self.engine):
                    result = build_site(self.config_path, self.out, index_search=False)
                pending_search = result.search_pending
                self.base_path = Urls(config.site.base_url).base_path
                self.error = None
                lines = [f"warning: {w}" for w in result.warnings] + [result.summary()]
            except SiteBuilderError as exc:
                self.error = str(exc)
            except Exception:  # a bug in a stage: show it, keep serving
                self.error = traceback.format_exc()
        if self.error is None:
            for line in lines:
                self.log(line)
        else:
            self.log(f"error: {self.error}\n(still serving; fix the file and save)")
        if self._loop is not None:
            with suppress(RuntimeError):  # the loop closed while we built: nobody to reload
                self._loop.call_soon_threadsafe(self._reload_clients)
        if pending_search:
            # Not under the site lock: the reloading browser must not wait for Pagefind.
            # Builds run one at a time on this thread, and the new index is swapped in whole.
            try:
                with one_engine(self.engine):
                    self.log(build_site(self.config_path, self.out).summary())
            except SiteBuilderError as exc:
                self.log(f"error: search index: {exc}")

    def _reload_clients(self) -> None:
        message = {"command": "reload", "path": "*", "liveCSS": False, "liveImg": False}
        for client in list(self.clients):
            try:
                client.write_message(message)
            except websocket.WebSocketClosedError:
                self.clients.discard(client)

    def reply(self, raw_path: str, query: str) -> Reply:
        """The response for a request; call with the site lock held."""
        answer = route(self.out, self.base_path, raw_path, query)
        if self.error is not None and answer.is_html:
            answer = page(500, "Build failed", "<p>The preview reloads by itself when the "
                           f"build succeeds.</p>\n<pre>{html.escape(self.error)}</pre>")
        if answer.is_html:
            answer.body = inject(answer.body, f'<script src="/livereload.js?port={self.port}">'
                                 "</script>".encode())
        return answer

    async def reply_between_builds(self, raw_path: str, query: str) -> Reply:
        while not self._site_lock.acquire(blocking=False):
            await asyncio.sleep(0.02)
        try:
            return self.reply(raw_path, query)
        finally:
            self._site_lock.release()

    def start(self, build_thread: bool = True) -> None:
        """Build, then serve and watch. With ``build_thread=False`` the caller runs the
        rebuilds itself (``self.rebuilder.run()``, the serve verb's main thread)."""
        try:
            sockets = netutil.bind_sockets(self.port, address=self.host)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(f"port {self.port} is in use; try --port {self.port + 1}") from exc
            raise ServeError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}") from exc
        self.port = sockets[0].getsockname()[1]
        self.build()
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve(sockets, ready)),
                                        name="serve-http", daemon=True)
        self._thread.start()
        ready.wait()
        self.watcher.start()
        if build_thread:
            self.rebuilder.start()

    async def _serve(self, sockets: list[socket.socket], ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        app = web.Application([
            (r"/livereload", _LiveReloadSocket, {"server": self}),
            (r"/livereload\.js", _LiveReloadJS, {"server": self}),
            (r"(?:/.*)?/_review(?:/.*)?", ReviewHandler, {"server": self}),
            (r"/.*", _PagesHandler, {"server": self}),
        ], log_function=_quiet)
        http = httpserver.HTTPServer(app, idle_connection_timeout=self.idle,
                                     body_timeout=self.idle, max_body_size=MAX_BODY)
        http.add_sockets(sockets)
        ready.set()
        await self._stopped.wait()
        http.stop()
        for client in list(self.clients):
            client.close()
        with suppress(TimeoutError):
            await asyncio.wait_for(http.close_all_connections(), 2)

    def stop(self) -> None:
        self.watcher.stop()
        self.rebuilder.stop()
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None


def _quiet(handler: web.RequestHandler) -> None:
    """No access log: the terminal is for build results and errors."""


class _HostChecked:
    """Every request, pages, script and socket alike, must name our address (guard.py)."""

    server: PreviewServer
    request: httputil.HTTPServerRequest

    def prepare(self) -> None:
        if not self.server.host_allowed(self.request.host):
            raise web.HTTPError(403, "Host not allowed")


class _LiveReloadJS(_HostChecked, LiveReloadJSHandler):  # type: ignore[misc]
    def initialize(self, server: PreviewServer) -> None:
        self.server = server


class _PagesHandler(_HostChecked, web.RequestHandler):
    def initialize(self, server: PreviewServer) -> None:
        self.server = server

    async def get(self) -> None:
        answer = await self.server.reply_between_builds(self.request.path, self.request.query)
        self.set_status(answer.status)
        for name, value in answer.headers.items():
            self.set_header(name, value)
        self.set_header("Cache-Control", "no-store")
        self.finish(answer.body)

    async def head(self) -> None:
        await self.get()


class _LiveReloadSocket(_HostChecked, websocket.WebSocketHandler):
    """The livereload protocol (official-7): answer 'hello', then send 'reload' messages."""

    def initialize(self, server: PreviewServer) -> None:
        self.server = server

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        try:
            command = json.loads(message).get("command")
        except (ValueError, AttributeError):
            return None
        if command == "hello":
            self.write_message({"command": "hello", "protocols": [PROTOCOL],
                                "serverName": "site-builder"})
            self.server.clients.add(self)
        return None

    def on_close(self) -> None:
        self.server.clients.discard(self)


def serve(config_path: Path, out: Path, host: str = "127.0.0.1", port: int = 8000,
          open_browser: bool = False) -> int:
    """The ``serve`` verb: run until Ctrl-C (exit 0); 1 when the server cannot start."""
    server = PreviewServer(config_path, out, host, port)
    if not is_loopback(host):
        print(f"warning: --host {host} makes the preview reachable from other machines, "
              "its review page included (which writes content/papers/); "
              "serve on 127.0.0.1 unless you mean it", file=sys.stderr)
    try:
        server.start(build_thread=False)
        _say(f"serving {server.url} (watching content/, templates/, static/, "
             f"{config_path.name}; Ctrl-C to stop)")
        if open_browser:
            webbrowser.open(server.url)
        server.rebuilder.run()  # rebuilds here, in the main thread, until Ctrl-C
    except ServeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _say("\nstopping")
    finally:
        server.stop()
    return 0
