"""Search in Debian's Chromium: the header box, Pagefind's results, under /repo/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from tests.e2e.conftest import BASE_PATH, BASE_URL
from tests.e2e.pages_server import PagesServer

pytestmark = pytest.mark.e2e

RESULT = ".pagefind-ui__result-link"


@pytest.fixture(scope="module")
def sharded_server(site_dir: Path) -> Iterator[PagesServer]:
    """The digest again, its index cut into 8 shards as a site of 5,000 papers is (the
    digest alone is one shard), so the browser merges them."""
    import site_builder.build.search_shards as shards
    from site_builder.build.pipeline import build_site

    out = site_dir.parent / "_site_sharded"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shards, "PAGES_PER_SHARD", 50)
        build_site(site_dir.parent / "config.yaml", out, base_url=BASE_URL, clean=True)
    assert len(list(out.glob("pagefind/shard-*/pagefind-entry.json"))) == 8
    with PagesServer(out, BASE_PATH) as running:
        yield running


@pytest.fixture(params=["one shard", "8 shards"])
def any_server(request: pytest.FixtureRequest) -> PagesServer:
    name = "server" if request.param == "one shard" else "sharded_server"
    found: PagesServer = request.getfixturevalue(name)
    return found


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


def test_header_search_finds_and_opens_a_paper(browser: Any, any_server: PagesServer) -> None:
    context, page, problems = open_page(browser, any_server.url)
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


def test_long_context_query_finds_long_context_papers(browser: Any, any_server: PagesServer,
                                                      site_dir: Path) -> None:
    context, page, _ = open_page(browser,
                                 any_server.url + "search/?q=" + quote_plus("long context"))
    try:
        top = result_hrefs(page)[:5]
        in_theme = theme_papers(site_dir, "long-context")
        assert len(top) >= 5 and sum(h in in_theme for h in top) >= 4, (top, len(in_theme))
    finally:
        context.close()


def test_exact_title_finds_that_paper_first(browser: Any, any_server: PagesServer) -> None:
    title = "Data Selection for Language Models via Importance Resampling"
    context, page, _ = open_page(browser, any_server.url + "search/?q=" + quote_plus(title))
    try:
        hrefs = result_hrefs(page)
        slug = "data-selection-for-language-models-via-importance-resampling"
        assert hrefs[0] == f"/repo/papers/{slug}/"
    finally:
        context.close()
