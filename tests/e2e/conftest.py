"""End-to-end fixtures: one fresh build of the embedded digest per session, served like Pages.

The build uses the repository's own config.yaml and content with the base URL of a
GitHub Pages project site, so every check sees the site under its /repo/ subpath.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.e2e.pages_server import PagesServer

BASE_URL = "https://example.github.io/repo/"
BASE_PATH = "/repo/"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end test on a fresh build of the digest")


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digest built from scratch from a copy of the repository's config and content.

    A copy, so the build's caches (.cache/ beside config.yaml) stay out of the checkout.
    """
    from site_builder.build.pipeline import build_site

    project = tmp_path_factory.mktemp("e2e") / "project"
    shutil.copytree(REPO, project, ignore=shutil.ignore_patterns(
        ".*", "_site*", "node_modules", "__pycache__", "*.egg-info", "site_builder", "tests",
        "build", "bench-results"))
    build_site(project / "config.yaml", project / "_site", base_url=BASE_URL, clean=True)
    return project / "_site"


@pytest.fixture(scope="session")
def server(site_dir: Path) -> Iterator[PagesServer]:
    with PagesServer(site_dir, BASE_PATH) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module: a live Playwright blocks any other in the same thread."""
    from tests.support.browser import launch

    with launch() as chromium:
        yield chromium
