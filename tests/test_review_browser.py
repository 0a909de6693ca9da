"""The review page in a real browser: add a theme by keyboard, see the paper page
reload with it, the front matter changed in those lines only, and undo restore it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from site_builder.config import load_config
from site_builder.ingest.merge import ingest
from site_builder.serve.server import PreviewServer
from tests.conftest import dump_text
from tests.support.browser import launch

OLD = "An Older Paper About Data Selection\n\nWe study data selection."
NEW = "A Fresh Paper On Nothing Known\n\nIts abstract mentions nothing the rules know."
SLUG = "a-fresh-paper-on-nothing-known"


def test_add_a_theme_on_the_review_page_then_undo(project: Callable[..., Path]) -> None:
    root: Path = project({"000_a.txt": dump_text(OLD)}, captured={"000_a.txt": "2025-11-03"})
    ingest(load_config(root / "config.yaml"))
    (root / "content/dumps/001_b.txt").write_text(dump_text(NEW), encoding="utf-8")
    ingest(load_config(root / "config.yaml"))  # an unlisted dump: dated by its header
    entry = root / "content/papers" / f"{SLUG}.md"
    original = entry.read_bytes()
    server = PreviewServer(root / "config.yaml", root / "_site", port=0, quiet=0.1, poll=0.05,
                           log=lambda _: None)
    server.start()
    try:
        assert server.error is None, server.error
        with launch() as browser:
            context = browser.new_context(viewport={"width": 390, "height": 800})
            preview = context.new_page()
            preview.goto(f"{server.url}papers/{SLUG}/")
            assert "Long context" not in preview.inner_text("main")
            review = context.new_page()
            review.goto(f"{server.url}_review/")
            first = review.locator("article.item").first
            assert first.get_attribute("data-slug") == SLUG  # the latest arrival first
            assert review.evaluate("document.documentElement.scrollWidth") <= 390
            deadline = time.monotonic() + 10
            while len(server.clients) < 2:  # both pages' livereload.js said hello
                assert time.monotonic() < deadline, "livereload.js never connected"
                review.wait_for_timeout(50)

            review.evaluate("window.notReloaded = true")
            review.keyboard.press("j")  # next paper, and back: the keys move the focus
            review.keyboard.press("k")
            assert review.evaluate("document.activeElement.dataset.slug") == SLUG
            review.keyboard.press("2")  # the second theme: Long context
            review.locator(f'#p-{SLUG} button.theme[data-value="long-context"]'
                           '[aria-pressed="true"]').wait_for(timeout=15_000)
            assert review.evaluate("window.notReloaded === undefined")  # livereload reloaded
            preview.get_by_role("link", name="Long context").first.wait_for(timeout=15_000)

            changed = entry.read_bytes().decode().split("\n")
            before = original.decode().split("\n")
            at = before.index("themes: []")
            assert changed == [*before[:at], "themes:", "- long-context", *before[at + 1:]]

            review.get_by_role("button", name="Undo last action").click()
            deadline = time.monotonic() + 10
            while entry.read_bytes() != original:
                assert time.monotonic() < deadline, "undo did not restore the file"
                review.wait_for_timeout(50)
            review.locator(f'#p-{SLUG} button.theme[data-value="long-context"]'
                           '[aria-pressed="false"]').wait_for(timeout=15_000)
            context.close()
    finally:
        server.stop()
