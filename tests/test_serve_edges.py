"""Preview-server edges: DNS rebinding (Host check), long names, idle clients, --host."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from site_builder.config import load_config
from site_builder.ingest.merge import ingest
from site_builder.serve.guard import host_allowed, origin_allowed
from site_builder.serve.server import PreviewServer, route, serve
from tests.conftest import dump_text


@pytest.fixture
def root(project: Callable[..., Path]) -> Path:
    path: Path = project({"a.txt": dump_text("A Paper\n\nIts abstract.")},
                         captured={"a.txt": "2025-11-26"})
    ingest(load_config(path / "config.yaml"))
    return path


@pytest.fixture
def server(root: Path) -> Iterator[PreviewServer]:
    preview = PreviewServer(root / "config.yaml", root / "_site", port=0, log=lambda _: None,
                            idle=0.5)
    preview.start()
    try:
        yield preview
    finally:
        preview.stop()


def get(server: PreviewServer, path: str, host: str | None = None,
        headers: dict[str, str] | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host or f"127.0.0.1:{server.port}")
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_a_foreign_host_reads_nothing_and_opens_no_socket(server: PreviewServer) -> None:
    evil = f"evil.example:{server.port}"
    for path in ("/repo/", "/repo/papers/a-paper/", "/livereload.js", "/"):
        assert get(server, path, evil)[0] == 403, path
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "http://evil.example"}
    assert get(server, "/livereload", evil, upgrade)[0] == 403
    assert get(server, "/livereload", None, {**upgrade, "Origin":
                                             f"http://127.0.0.1:{server.port}"})[0] == 101
    assert get(server, "/repo/")[0] == 200
    assert get(server, "/repo/", f"localhost:{server.port}")[0] == 200


def test_host_and_origin_rules() -> None:
    assert host_allowed("127.0.0.1:8000", "127.0.0.1", 8000)
    assert host_allowed("[::1]:8000", "127.0.0.1", 8000)
    assert not host_allowed("127.0.0.1:8001", "127.0.0.1", 8000)
    assert not host_allowed("127.0.0.1", "127.0.0.1", 8000)
    assert not host_allowed(None, "127.0.0.1", 8000)
    assert not host_allowed("evil.example:8000", "0.0.0.0", 8000)
    assert host_allowed("192.168.1.5:8000", "0.0.0.0", 8000)
    assert not host_allowed("localhost:8000", "192.168.1.5", 8000)
    assert origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert not origin_allowed("null", "127.0.0.1:8000")
    assert not origin_allowed(None, "127.0.0.1:8000")


def test_long_path_segments_are_404_and_idle_connections_close(server: PreviewServer) -> None:
    status, text = get(server, "/repo/" + "a" * 300 + "/")
    assert status == 404 and "Traceback" not in text
    assert get(server, "/repo/" + "%C3%A9" * 130)[0] == 404  # 260 bytes
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as idle:
        idle.sendall(b"GET /repo/ HTTP/1.1\r\n")  # and never the rest
        started = time.monotonic()
        assert idle.recv(100) == b""  # the server hung up
        assert time.monotonic() - started < 4


def test_route_never_raises_on_names_the_os_refuses(tmp_path: Path) -> None:
    (tmp_path / "404.html").write_text("<p>nope</p>")
    assert route(tmp_path, "/", "/" + "x" * 256).status == 404
    assert route(tmp_path, "/", "/404.html/" + "y" * 200).status == 404


def test_serving_beyond_loopback_warns(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:  # a taken port: serve() warns, then cannot start
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve(root / "config.yaml", root / "_site", host="0.0.0.0", port=port) == 1
        assert "warning: --host 0.0.0.0 makes the preview reachable from other machines" in \
            capsys.readouterr().err
        assert serve(root / "config.yaml", root / "_site", host="127.0.0.1", port=port) == 1
        assert "warning" not in capsys.readouterr().err
