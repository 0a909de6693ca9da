"""Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by Playwright.

Never downloads a browser (`playwright install` cannot work offline). When Chromium or
the Playwright package is missing, the test fails and says exactly what to install:
`make e2e-deps` (run by `make test` and .ci/run) installs both when it can.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Every host but 127.0.0.1 resolves to nothing: a page that needs the internet fails.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser",
                      shutil.which("chromium") or ""):
        if candidate and os.path.exists(candidate):
            return candidate
    pytest.fail("missing system package: Chromium (/usr/bin/chromium). "
                "Install it with `make e2e-deps` (runs `apt-get install chromium` as root) "
                "or `sudo apt-get install chromium`.", pytrace=False)


@contextmanager
def launch() -> Iterator[Any]:
    """Yield a Playwright Browser on Debian's Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("missing Python package: playwright (pip install playwright; "
                    "`make test` installs it into .venv)", pytrace=False)
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
