"""The digest in Debian's Chromium, served under /repo/ like GitHub Pages serves it.

Each visit fails on a console error, an uncaught page error, a failed request or a
subresource answered with a status >= 400. At phone width the page must not scroll
sideways. Chromium resolves no host but 127.0.0.1, so anything fetched from the
internet (a CDN font, a script) is a failed request too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pages_server import PagesServer

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
MISSING = "no/such/page/here/"


@dataclass
class Visit:
    status: int | None = None
    problems: list[str] = field(default_factory=list)
    scroll_width: int = 0
    title: str = ""


def first_page(site_dir: Path, folder: str) -> str:
    """The site path of the first page one level under folder/ (``themes/x/``)."""
    pages = sorted(p.parent.name for p in (site_dir / folder).glob("*/index.html"))
    assert pages, f"the build has no page under {folder}/"
    return f"{folder}/{pages[0]}/"


def visit(browser: Any, server: PagesServer, path: str, options: dict[str, Any]) -> Visit:
    seen = Visit()
    context = browser.new_context(service_workers="block", **options)
    page = context.new_page()
    url = server.url + path
    page.on("console", lambda m: seen.problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda exc: seen.problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda r: seen.problems.append(
        f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: seen.problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and r.url != url else None)
    try:
        response = page.goto(url, wait_until="networkidle")
        seen.status = response.status if response else None
        seen.scroll_width = page.evaluate("document.documentElement.scrollWidth")
        seen.title = page.title()
    finally:
        context.close()
    return seen


@pytest.mark.parametrize("which", ["home", "theme", "tag", "paper"])
def test_page_loads_cleanly(browser: Any, server: PagesServer, site_dir: Path,
                            which: str) -> None:
    path = "" if which == "home" else first_page(site_dir, f"{which}s")
    seen = visit(browser, server, path, DESKTOP)
    assert seen.status == 200, f"{server.base}{path} answered {seen.status}"
    assert not seen.problems, f"{server.base}{path}:\n" + "\n".join(seen.problems)
    assert seen.title.strip()


def test_deep_missing_url_shows_the_404_page(browser: Any, server: PagesServer,
                                             site_dir: Path) -> None:
    """Pages serves 404.html at any depth: its styles, icons and links must still work."""
    seen = visit(browser, server, MISSING, DESKTOP)
    assert seen.status == 404
    assert not seen.problems, f"{server.base}{MISSING}:\n" + "\n".join(seen.problems)
    title = (site_dir / "404.html").read_text("utf-8").split("<title>")[1].split("</title>")[0]
    assert seen.title == title.strip(), "the body served is not the site's own 404.html"


@pytest.mark.parametrize("which", ["home", "paper"])
def test_phone_width_does_not_scroll_sideways(browser: Any, server: PagesServer, site_dir: Path,
                                              which: str) -> None:
    path = "" if which == "home" else first_page(site_dir, "papers")
    seen = visit(browser, server, path, PHONE)
    assert seen.status == 200 and not seen.problems, "\n".join(seen.problems)
    assert seen.scroll_width <= 390, (
        f"{server.base}{path} is {seen.scroll_width}px wide in a 390px phone viewport")
