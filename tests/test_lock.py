"""One writer at a time on a project: a build waits for, or refuses, another holder."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.build.pipeline import build_site
from site_builder.config import load_config
from site_builder.ingest.merge import ingest
from site_builder.lock import LockedError, holder_of, project_lock
from tests.conftest import dump_text

ENTRY = """\
Data selection for long-context pretraining
We study data selection at scale.
  • 3 authors
·
Mar 5, 2024
"""


@pytest.fixture
def digest(project: Callable[..., Path]) -> Path:
    root = project({"000_a.txt": dump_text(ENTRY)})
    ingest(load_config(root / "config.yaml"))
    return root


def test_a_build_refuses_while_another_holds_the_project(digest: Path) -> None:
    with project_lock(digest, "build _site (the test)"), pytest.raises(LockedError) as caught:
        build_site(digest / "config.yaml", digest / "_site", lock_wait=0)
    message = str(caught.value)
    assert "pid" in message and "build _site (the test)" in message
    assert not (digest / "_site").exists()  # nothing was touched while it was held


def test_a_build_waits_for_the_holder_and_then_builds(digest: Path) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with project_lock(digest, "ingest"):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    timer = threading.Timer(0.3, release.set)
    timer.start()
    result = build_site(digest / "config.yaml", digest / "_site", lock_wait=10)
    holder.join()
    assert result.pages > 0 and (digest / "_site" / "index.html").is_file()


def test_overlapping_build_processes_give_one_clean_site(digest: Path) -> None:
    """Two builds of one folder with two base URLs used to share one staging folder and
    leave pages of both; now the second waits for the first, and the site is the one a
    clean build with the last base URL gives."""
    cmd = [sys.executable, "-m", "site_builder", "--config", str(digest / "config.yaml"),
           "build", "--out", str(digest / "_site")]
    first = subprocess.Popen([*cmd, "--base-url", "https://a.example/one/"],
                             stderr=subprocess.PIPE, text=True)
    # The second starts once the first holds the lock (its pid is in the lock file), so
    # the order is known however loaded the machine is.
    deadline = time.monotonic() + 60
    while f"pid {first.pid}:" not in holder_of(digest) and first.poll() is None:
        assert time.monotonic() < deadline, "the first build never took the lock"
        time.sleep(0.001)
    second = subprocess.run([*cmd, "--base-url", "https://b.example/two/"],
                            capture_output=True, text=True, check=False)
    first.communicate(timeout=60)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    clean = digest / "_clean"
    build_site(digest / "config.yaml", clean, base_url="https://b.example/two/", clean=True)
    built = sorted(p.relative_to(digest / "_site") for p in (digest / "_site").rglob("*")
                   if p.is_file())
    assert built == sorted(p.relative_to(clean) for p in clean.rglob("*") if p.is_file())
    for rel in built:
        assert (digest / "_site" / rel).read_bytes() == (clean / rel).read_bytes(), rel
