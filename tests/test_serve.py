"""Preview server: Pages-like routing, rebuild on change, debounce, errors, ingest, ports."""

from __future__ import annotations

import http.client
import inspect
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from site_builder.cli import build_parser
from site_builder.config import load_config
from site_builder.ingest.merge import ingest
from site_builder.serve.server import PreviewServer, Rebuilder, ServeError, route, serve
from tests.conftest import REPO, dump_text

N = 50
SLUG = "paper-number-0-about-data-selection"


def entry(i: int) -> str:
    return f"Paper Number {i} About Data Selection\n\nWe study data selection, case {i}."


def wait_until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def fetch(server: PreviewServer, path: str) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def settle(server: PreviewServer, builds: int) -> None:
    """Wait for `builds` finished rebuilds, then check no further one follows."""
    wait_until(lambda: server.rebuilder.builds >= builds)
    assert server.rebuilder.wait_idle(10)
    time.sleep(0.5)  # longer than the debounce: a self-triggered build would show by now
    assert server.rebuilder.builds == builds


@pytest.fixture
def root(project: Callable[..., Path]) -> Path:
    path: Path = project({"000_a.txt": dump_text(*(entry(i) for i in range(N)))},
                         captured={"000_a.txt": "2025-11-26"})
    ingest(load_config(path / "config.yaml"))
    return path


@pytest.fixture
def logs() -> list[str]:
    return []


@pytest.fixture
def server(root: Path, logs: list[str]) -> Iterator[PreviewServer]:
    # The output folder sits inside the project: it must not be watched.
    preview = PreviewServer(root / "config.yaml", root / "_site", port=0, quiet=0.2, poll=0.02,
                            log=logs.append)
    preview.start()
    try:
        assert preview.error is None, preview.error  # the project itself must build
        yield preview
    finally:
        preview.stop()


def set_title(path: Path, title: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^title: .*$", f"title: {title}", text, count=1, flags=re.M),
                    encoding="utf-8")


def test_serves_like_pages_under_the_base_path(server: PreviewServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}/repo/"
    status, _, body = fetch(server, "/repo/")
    assert status == 200 and "Test Digest" in body
    assert body.rstrip().endswith(f'<script src="/livereload.js?port={server.port}"></script>'
                                  "</body>\n</html>")
    status, headers, _ = fetch(server, "/")
    assert (status, headers["Location"]) == (302, "/repo/")
    assert fetch(server, "/repo")[1]["Location"] == "/repo/"
    status, headers, _ = fetch(server, f"/repo/papers/{SLUG}?a=1")
    assert (status, headers["Location"]) == (301, f"/repo/papers/{SLUG}/?a=1")
    status, _, body = fetch(server, f"/repo/papers/{SLUG}/")
    assert status == 200 and "Paper Number 0 About Data Selection" in body
    status, _, body = fetch(server, "/repo/no/such/page/")
    assert status == 404 and "Page not found" in body and "/livereload.js" in body
    for outside in ("/other/", "/static/style.css", "/repo/../config.yaml", "/repo/%2e%2e/x"):
        assert fetch(server, outside)[0] == 404, outside
    status, headers, _ = fetch(server, "/repo/static/style.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert fetch(server, "/livereload.js")[0] == 200


def test_route_at_a_domain_root(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<body>home</body>")
    assert route(tmp_path, "/", "/").status == 200
    assert route(tmp_path, "/", "/x/").status == 404


def test_binds_127_0_0_1_by_default(server: PreviewServer) -> None:
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(PreviewServer).parameters["host"].default == "127.0.0.1"
    assert server.host == "127.0.0.1"


def test_edited_title_is_served_after_one_rebuild(root: Path, server: PreviewServer) -> None:
    set_title(root / "content" / "papers" / f"{SLUG}.md", "A Brand New Title")
    wait_until(lambda: "A Brand New Title" in fetch(server, f"/repo/papers/{SLUG}/")[2])
    settle(server, 1)
    assert server.ingests == 0


def test_broken_template_shows_the_error_then_recovers(root: Path, server: PreviewServer,
                                                       logs: list[str]) -> None:
    template = root / "templates" / "paper.html"
    good = template.read_text(encoding="utf-8")
    lines = good.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "{% block content %}" in line) + 1
    template.write_text("".join([*lines[:at], "{{ nonexistent }}\n", *lines[at:]]),
                        encoding="utf-8")
    page = f"/repo/papers/{SLUG}/"
    wait_until(lambda: fetch(server, page)[0] == 500)
    body = fetch(server, page)[2]
    assert f"templates/paper.html:{at + 1}:" in body
    assert "&#x27;nonexistent&#x27; is undefined" in body  # escaped
    assert f'<script src="/livereload.js?port={server.port}">' in body
    assert fetch(server, "/repo/static/style.css")[0] == 200  # assets still served
    assert any(line.startswith(f"error: templates/paper.html:{at + 1}:") for line in logs)
    template.write_text(good, encoding="utf-8")
    wait_until(lambda: fetch(server, page)[0] == 200)
    assert "Paper Number 0 About Data Selection" in fetch(server, page)[2]
    settle(server, 2)


def test_a_burst_of_fifty_saves_is_one_build(root: Path, server: PreviewServer) -> None:
    papers = sorted((root / "content" / "papers").glob("*.md"))
    assert len(papers) == N
    for i, path in enumerate(papers):  # spread over ~0.5 s: longer than the debounce window
        path.write_text(path.read_text(encoding="utf-8") + f"\nEdited {i}.\n", encoding="utf-8")
        time.sleep(0.01)
    settle(server, 1)
    assert "Edited 0." in fetch(server, f"/repo/papers/{SLUG}/")[2]


def test_changes_during_a_build_make_exactly_one_more() -> None:
    started, batches = threading.Event(), []

    def slow_build(changed: frozenset[Path]) -> None:
        batches.append(changed)
        started.set()
        time.sleep(0.3)

    rebuilder = Rebuilder(slow_build, quiet=0.05)
    rebuilder.start()
    try:
        rebuilder.changed([Path("a")])
        assert started.wait(5)
        for name in "bcdef":
            rebuilder.changed([Path(name)])
            time.sleep(0.02)
        wait_until(lambda: rebuilder.builds == 2)
        assert rebuilder.wait_idle(5)
        time.sleep(0.2)
        assert rebuilder.builds == 2
        assert batches == [{Path("a")}, {Path(n) for n in "bcdef"}]
    finally:
        rebuilder.stop()


def test_a_dump_change_runs_ingest_first(root: Path, server: PreviewServer) -> None:
    dump = root / "content" / "dumps" / "000_a.txt"
    dump.write_text(dump.read_text(encoding="utf-8").rstrip("\n")
                    + "\n\nA Freshly Listed Paper\n\nIts abstract.\n", encoding="utf-8")
    page = "/repo/papers/a-freshly-listed-paper/"
    wait_until(lambda: fetch(server, page)[0] == 200)
    assert (root / "content" / "papers" / "a-freshly-listed-paper.md").exists()
    settle(server, 1)  # the entry ingest wrote does not trigger a second build
    assert server.ingests == 1


def test_requests_wait_while_a_build_runs(server: PreviewServer) -> None:
    answers: list[int] = []
    with server._site_lock:  # what a running build holds
        thread = threading.Thread(target=lambda: answers.append(fetch(server, "/repo/")[0]))
        thread.start()
        time.sleep(0.3)
        assert answers == []
    thread.join(5)
    assert answers == [200]


def test_port_in_use_is_a_clear_error(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve(root / "config.yaml", root / "_site", port=port) == 1
        with pytest.raises(ServeError, match=f"port {port} is in use; try --port {port + 1}"):
            PreviewServer(root / "config.yaml", root / "_site", port=port).start()
    assert f"error: port {port} is in use; try --port {port + 1}" in capsys.readouterr().err


def test_ctrl_c_stops_cleanly(root: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "site_builder", "serve", "--port", "0"],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("serving http://127.0.0.1:"):
                break
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=10)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_a_slow_scan_is_run_less_often(tmp_path: Path) -> None:
    from site_builder.serve.watch import POLL, SCAN_SHARE, Watcher

    watcher = Watcher([tmp_path], tmp_path / "_site", lambda changed: None)
    assert watcher.next_wait(POLL * SCAN_SHARE / 10) == POLL  # a small digest: every POLL
    slow = POLL * SCAN_SHARE * 4  # a scan of thousands of entries
    assert watcher.next_wait(slow) == pytest.approx(slow / SCAN_SHARE)
    assert watcher.next_wait(slow) > POLL


def test_a_library_upgraded_while_serving_is_not_claimed_by_its_builds(
        root: Path, server: PreviewServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pip install -U` while the preview runs changes the files, not the code the
    preview has loaded: its rebuilds must record the engine they ran, so the next build
    in a fresh process (the new library) renders everything again."""
    from site_builder.build.pipeline import build_site
    from site_builder.incremental import engine

    upgraded = tuple("jinja2==99.0" if v.startswith("jinja2==") else v
                     for v in engine.library_versions())
    monkeypatch.setattr(engine, "library_versions", lambda: upgraded)
    set_title(root / "content/papers" / f"{SLUG}.md", "A Retitled Paper")
    settle(server, 1)
    assert "A Retitled Paper" in fetch(server, f"/repo/papers/{SLUG}/")[2]
    server.stop()
    after = build_site(root / "config.yaml", root / "_site")  # as a new process would
    assert not after.noop and after.stats.rendered > N, "the upgrade was taken as built"
