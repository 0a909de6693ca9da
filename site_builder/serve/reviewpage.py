"""The review page of the preview server, at ``<base path>_review/``.

In: requests under ``<base path>_review/``: GET the page (and its script and style),
POST ``action`` and ``undo`` (JSON). Out: the page, rendered at each request from the
entry files (never written into the built site), and writes through desk.Desk.

A write must pass, in order: the Host check every request passes (guard.py), an
``Origin`` equal to this server, the per-run secret token (a header; the token is
only in the review page, which a foreign page cannot read), and a JSON body. A
refused write gets 403 and changes nothing. Each write is logged in the terminal,
and starts a rebuild; livereload then reloads the review page and any open preview.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from tornado import web

from site_builder.config import load_config
from site_builder.errors import SiteBuilderError
from site_builder.serve.desk import Desk, Done
from site_builder.serve.guard import host_allowed, origin_allowed
from site_builder.serve.review import ReviewError, digest_of, review_items
from site_builder.site import format_date

if TYPE_CHECKING:
    from site_builder.serve.server import PreviewServer

ASSETS = Path(__file__).parent / "review_assets"
STATIC = {"review.js": "application/javascript; charset=utf-8",
          "review.css": "text/css; charset=utf-8"}
MAX_BODY = 64 * 1024
TOKEN_HEADER = "X-Review-Token"


class ReviewPage:
    """The page's state for one server run: its token, the writer, the template."""

    def __init__(self, config_path: Path, log: Callable[[str], None],
                 written: Callable[[Path], None]) -> None:
        self.config_path = config_path
        self.token = secrets.token_urlsafe(32)
        self.desk = Desk(config_path)
        self.log, self.written = log, written
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(ASSETS), autoescape=True,
                                 undefined=jinja2.StrictUndefined)
        self.template = env.get_template("review.html")

    def render(self, base_path: str, port: int, error: str | None) -> bytes:
        config = load_config(self.config_path)
        items = review_items(config)
        captured = {d.file: d.captured for d in config.dumps}
        return self.template.render(
            items=items, themes=config.themes, token=self.token, base=base_path, port=port,
            error=error, captured=captured, format_date=format_date,
            site_title=config.site.title).encode("utf-8")

    def allowed(self, handler: web.RequestHandler) -> str | None:
        """Why this write is refused, or None."""
        request = handler.request
        if not origin_allowed(request.headers.get("Origin"), request.host):
            return "foreign or missing Origin"
        token = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return "missing or wrong token"
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            return "not JSON"
        return None

    def write(self, verb: str, body: dict[str, Any]) -> Done | None:
        if verb == "undo":
            return self.desk.undo()
        slug, digest = body.get("slug"), body.get("digest")
        action = body.get("action")
        if not all(isinstance(v, str) for v in (slug, digest, action)):
            raise ReviewError("review page", None, "expected slug, digest and action")
        return self.desk.act(str(slug), str(digest), str(action), body.get("value"))


class ReviewHandler(web.RequestHandler):
    """Everything under ``/<anything>/_review/``; answers only under the base path."""

    def initialize(self, server: PreviewServer) -> None:
        self.server = server

    def prepare(self) -> None:
        if not host_allowed(self.request.host, self.server.host, self.server.port):
            raise web.HTTPError(403)

    def _rest(self) -> str | None:
        prefix = self.server.base_path + "_review/"
        path = self.request.path
        if path + "/" == prefix:
            return ""
        return path[len(prefix):] if path.startswith(prefix) else None

    async def get(self) -> None:
        rest = self._rest()
        self.set_header("Cache-Control", "no-store")
        if rest == "" and not self.request.path.endswith("/"):
            self.redirect(self.request.path + "/", permanent=False)
            return
        if rest in STATIC:
            self.set_header("Content-Type", STATIC[rest])
            self.finish((ASSETS / rest).read_bytes())
            return
        if rest != "":
            raise web.HTTPError(404)
        page = self.server.review
        try:
            body = await asyncio.get_running_loop().run_in_executor(
                None, page.render, self.server.base_path, self.server.port, self.server.error)
        except SiteBuilderError as exc:
            self.set_status(500)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(f"The review page cannot be shown:\n{exc}\n")
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Content-Security-Policy",
                        "default-src 'none'; script-src 'self'; style-src 'self'; "
                        f"connect-src 'self' ws://{self.request.host}; img-src 'self'; "
                        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        self.finish(body)

    async def post(self) -> None:
        rest = self._rest()
        page = self.server.review
        refused = page.allowed(self)
        if refused is not None:
            self.server.log(f"review: refused a write ({refused})")
            self._answer(403, {"message": f"refused: {refused}"})
            return
        if rest not in ("action", "undo"):
            self._answer(404, {"message": "no such review action"})
            return
        try:
            body = json.loads(self.request.body or b"{}")
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            self._answer(400, {"message": "the body is not a JSON object"})
            return
        try:
            done = await asyncio.get_running_loop().run_in_executor(None, page.write, rest, body)
        except SiteBuilderError as exc:
            self.server.log(f"review: refused: {exc}")
            self._answer(409, {"message": str(exc)})
            return
        if done is None:
            self._answer(200, {"message": "nothing to change", "digest": body.get("digest")})
            return
        self.server.log(f"review: {done.said}")
        page.written(done.path)
        self._answer(200, {"message": done.said, "digest": digest_of(done.after)})

    def _answer(self, status: int, data: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(data))
