"""Search in Debian's Chromium: the header box, Pagefind's results, under /repo/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from tests.e2e.pages_server import PagesServer

pytestmark = pytest.mark.e2e

RESULT = ".pagefind-ui__result-link"


def open_page(browser: Any, url: str) -> tuple[Any, Any, list[str]]:
    problems: list[str] = []
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}")
            if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(url, wait_until="networkidle")
    return context, page, problems


def result_hrefs(page: Any) -> list[str]:
    page.wait_for_selector(RESULT, timeout=15_000)
    hrefs: list[str] = page.eval_on_selector_all(
        RESULT, "els => els.map(e => e.getAttribute('href'))")
    return hrefs


def theme_papers(site_dir: Path, theme: str) -> set[str]:
    found: set[str] = set()
    for page in (site_dir / "themes" / theme).rglob("index.html"):
        found |= set(re.findall(r'href="(/repo/papers/[^"]+/)"', page.read_text()))
    return found


def test_header_search_finds_and_opens_a_paper(browser: Any, server: PagesServer) -> None:
    context, page, problems = open_page(browser, server.url)
    try:
        page.fill("#site-search-q", "long context")
        page.press("#site-search-q", "Enter")
        page.wait_for_url(re.compile(r"/repo/search/\?q=long\+context"))
        hrefs = result_hrefs(page)
        assert hrefs and all(h.startswith("/repo/papers/") for h in hrefs), hrefs
        first_title = page.inner_text(RESULT).strip()
        page.click(RESULT)
        page.wait_for_url(re.compile(r"/repo/papers/[^/]+/$"))
        assert page.inner_text("h1").strip() == first_title
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def test_long_context_query_finds_long_context_papers(browser: Any, server: PagesServer,
                                                      site_dir: Path) -> None:
    context, page, _ = open_page(browser, server.url + "search/?q=" + quote_plus("long context"))
    try:
        top = result_hrefs(page)[:5]
        in_theme = theme_papers(site_dir, "long-context")
        assert len(top) >= 5 and sum(h in in_theme for h in top) >= 4, (top, len(in_theme))
    finally:
        context.close()


def test_exact_title_finds_that_paper_first(browser: Any, server: PagesServer) -> None:
    title = "Data Selection for Language Models via Importance Resampling"
    context, page, _ = open_page(browser, server.url + "search/?q=" + quote_plus(title))
    try:
        hrefs = result_hrefs(page)
        slug = "data-selection-for-language-models-via-importance-resampling"
        assert hrefs[0] == f"/repo/papers/{slug}/"
    finally:
        context.close()
