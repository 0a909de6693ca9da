"""The test server answers like GitHub Pages does for a project site."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest

from tests.e2e.pages_server import PagesServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    for name, text in {"index.html": "home", "404.html": "custom 404", "a/index.html": "a",
                       "page.html": "page", "style.css": "body{}"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def get(server: PagesServer, path: str) -> tuple[int, str, str]:
    port = int(server.url.split(":")[2].split("/")[0])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Location") or "", response.read().decode()
    finally:
        connection.close()


@pytest.mark.parametrize(("path", "expected"), [
    ("/repo/", (200, "", "home")),
    ("/repo", (301, "/repo/", "")),
    ("/repo/a", (301, "/repo/a/", "")),
    ("/repo/a/", (200, "", "a")),
    ("/repo/a/index.html", (200, "", "a")),
    ("/repo/page", (200, "", "page")),
    ("/repo/style.css?v=1", (200, "", "body{}")),
    ("/repo/missing/deep/", (404, "", "custom 404")),
    ("/repo/../index.html", (404, "", "custom 404")),
    ("/", (404, "", "<!DOCTYPE html><title>404</title><h1>Not found</h1>")),
    ("/style.css", (404, "", "<!DOCTYPE html><title>404</title><h1>Not found</h1>")),
])
def test_answers_like_pages(tiny: Path, path: str, expected: tuple[int, str, str]) -> None:
    with PagesServer(tiny, "/repo/") as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert get(server, path) == expected
