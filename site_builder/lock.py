"""One writer at a time on a project: builds, ingests and the review page's writes.

In: the project root, what the caller is about to do (``"build _site"``) and how long
it may wait. Out: a held lock for the ``with`` block, or a LockedError naming the
process that holds it (its pid and what it is doing).

Why flock on ``.site-builder.lock``: the kernel releases it when its holder dies, so
a build killed by SIGKILL never leaves a stale lock behind (a pid file would), and it
excludes threads of one process too (each holder opens the file anew), which is how
the preview server's builds and its review page's writes take turns. The file's text
is only the message for whoever waits; the lock is the flock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from site_builder.errors import SiteBuilderError

LOCK_NAME = ".site-builder.lock"
POLL_SECONDS = 0.05


class LockedError(SiteBuilderError):
    """Another process (or thread) holds the project lock."""


def lock_path(root: Path) -> Path:
    return root / LOCK_NAME


def holder_of(root: Path) -> str:
    """What the lock file says of its holder (``pid 123: build _site``), or ``unknown``."""
    try:
        text = lock_path(root).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "unknown"
    return text[:200] or "unknown"


@contextlib.contextmanager
def project_lock(root: Path, doing: str, wait: float = 0.0,
                 on_wait: str | None = None) -> Iterator[None]:
    """Hold the project's lock while the block runs. Waits up to ``wait`` seconds for
    another holder (printing ``on_wait`` once to stderr, if given); then LockedError."""
    path = lock_path(root)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise LockedError(str(path), None, f"cannot open the project lock: "
                          f"{exc.strerror or exc}") from exc
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockedError(str(path), None,
                                      f"another site-builder is running ({holder_of(root)}); "
                                      "wait for it to finish, or stop it") from None
                if on_wait and not told:
                    print(f"{on_wait} ({holder_of(root)})", file=sys.stderr)
                    told = True
                time.sleep(POLL_SECONDS)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}: {doing}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
