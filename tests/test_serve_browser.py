"""Preview server in a real browser: an edit reloads the open page by itself."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from site_builder.config import load_config
from site_builder.ingest.merge import ingest
from site_builder.serve.server import PreviewServer
from tests.conftest import dump_text
from tests.support.browser import launch

PAPER = "Data Selection via Importance Resampling\n\nWe select pretraining data by resampling."
SLUG = "data-selection-via-importance-resampling"


def test_an_edit_reloads_the_open_page(project: Callable[..., Path]) -> None:
    root: Path = project({"000_a.txt": dump_text(PAPER)}, captured={"000_a.txt": "2025-11-26"})
    ingest(load_config(root / "config.yaml"))
    server = PreviewServer(root / "config.yaml", root / "_site", port=0, log=lambda _: None)
    server.start()
    try:
        assert server.error is None, server.error
        with launch() as browser:
            page = browser.new_page()
            page.goto(f"{server.url}papers/{SLUG}/")
            assert "Data Selection via Importance Resampling" in page.inner_text("h1")
            page.evaluate("window.notReloaded = true")  # gone once the page reloads
            deadline = time.monotonic() + 10
            while not server.clients:  # livereload.js has connected and said hello
                assert time.monotonic() < deadline, "livereload.js never connected"
                page.wait_for_timeout(50)

            entry = root / "content" / "papers" / f"{SLUG}.md"
            text = entry.read_text(encoding="utf-8")
            entry.write_text(re.sub(r"^title: .*$", "title: Retitled While Open", text,
                                    count=1, flags=re.M), encoding="utf-8")
            page.get_by_role("heading", name="Retitled While Open").wait_for(timeout=15_000)
            assert page.evaluate("window.notReloaded === undefined")

            # A broken template shows the error in the page; fixing it recovers it.
            template = root / "templates" / "paper.html"
            good = template.read_text(encoding="utf-8")
            template.write_text(good.replace("{% block content %}",
                                             "{% block content %}{{ nonexistent }}", 1),
                                encoding="utf-8")
            page.get_by_text("Build failed").wait_for(timeout=15_000)
            assert "templates/paper.html:" in page.inner_text("pre")
            template.write_text(good, encoding="utf-8")
            page.get_by_role("heading", name="Retitled While Open").wait_for(timeout=15_000)
    finally:
        server.stop()
