"""Watching sources and debouncing rebuilds, for the preview server.

In: folders and files to watch, and a build callable. Out: ``Watcher`` polls them and
reports what changed; ``Rebuilder`` turns bursts of changes into single builds run one
at a time in a worker thread (a git checkout of fifty files is one build).
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

QUIET = 0.06  # seconds without a change before a rebuild starts (a little over POLL: a
# burst of saves seen by two scans is still one build)
POLL = 0.05  # seconds between two scans of the watched files (~1.5 ms each for 450 files)
SCAN_SHARE = 0.1
"""Most of a core the scans may take: a digest whose scan takes longer than
POLL * SCAN_SHARE (thousands of entries) is scanned less often, not more of the time."""
Stamp = tuple[int, int, int]


class Watcher:
    """Polls files under ``roots`` (dirs or files) and reports the paths that changed."""

    def __init__(self, roots: Iterable[Path], skip: Path, on_change: Callable[[set[Path]], None],
                 interval: float = POLL) -> None:
        self.roots = [r.resolve() for r in roots]
        self.skip = str(skip.resolve())
        self._on_change = on_change
        self._interval = interval
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._snapshot = self.scan()
        self._thread = threading.Thread(target=self._run, name="serve-watch", daemon=True)

    @staticmethod
    def _stamp(path: str) -> Stamp | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def scan(self) -> dict[str, Stamp]:
        found: dict[str, Stamp] = {}
        folders = [str(root) for root in self.roots]
        while folders:
            folder = folders.pop()
            try:
                with os.scandir(folder) as entries:
                    for item in entries:
                        if item.name.startswith(".") or item.name.endswith("~"):
                            continue  # editors' and atomic writes' temporaries
                        if item.is_dir():
                            if item.path != self.skip:
                                folders.append(item.path)
                        elif (stamp := self._stamp(item.path)) is not None:
                            found[item.path] = stamp
            except NotADirectoryError:  # a watched file (config.yaml)
                if (stamp := self._stamp(folder)) is not None:
                    found[folder] = stamp
            except OSError:  # vanished or unreadable: nothing to watch there
                pass
        return found

    def poll(self) -> set[Path]:
        with self._lock:
            old, new = self._snapshot, self.scan()
            self._snapshot = new
        return {Path(p) for p in old.keys() | new.keys() if old.get(p) != new.get(p)}

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No scan runs inside this block (used while ingest writes entries)."""
        with self._lock:
            yield

    def absorb(self, paths: Iterable[Path]) -> None:
        """Take these paths' current state as known: our own writes are not changes."""
        with self._lock:
            for path in map(str, paths):
                if (stamp := self._stamp(path)) is None:
                    self._snapshot.pop(path, None)
                else:
                    self._snapshot[path] = stamp

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def next_wait(self, scan_seconds: float) -> float:
        """Seconds until the next scan: the interval, or longer when a scan is slow."""
        return max(self._interval, scan_seconds / SCAN_SHARE)

    def _run(self) -> None:
        wait = self._interval
        while not self._stop.wait(wait):
            started = time.perf_counter()
            changed = self.poll()
            wait = self.next_wait(time.perf_counter() - started)
            if changed:
                self._on_change(changed)


class Rebuilder:
    """Debounces changes into builds: one worker thread, one build at a time.

    ``changed()`` may be called from any thread. A build starts when ``quiet`` seconds
    pass without a change; changes arriving during a build make exactly one more build.
    """

    def __init__(self, build: Callable[[frozenset[Path]], None], quiet: float = QUIET) -> None:
        self._build = build
        self._quiet = quiet
        self._cond = threading.Condition()
        self._pending: set[Path] = set()
        self._last = 0.0
        self._busy = False
        self._stopping = False
        self.builds = 0  # finished builds, for tests and the terminal
        self._thread = threading.Thread(target=self._run, name="serve-build", daemon=True)

    def changed(self, paths: Iterable[Path]) -> None:
        with self._cond:
            self._pending.update(paths)
            self._last = time.monotonic()
            self._cond.notify_all()

    def start(self) -> None:
        self._thread.start()

    def run(self) -> None:
        """Build in the calling thread until stopped. The ``serve`` verb builds in the
        main thread: only there does a rule's time budget (classify/guard.py, on
        SIGALRM) apply, and Ctrl-C interrupts a build at once."""
        self._run()

    def stop(self, timeout: float = 60.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)  # lets a running build finish its writes

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no build is running or pending; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy and not self._pending, timeout)

    def _next_batch(self) -> frozenset[Path] | None:
        with self._cond:
            while not self._stopping:
                if self._pending:
                    wait = self._last + self._quiet - time.monotonic()
                    if wait <= 0:
                        batch = frozenset(self._pending)
                        self._pending.clear()
                        self._busy = True
                        return batch
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                self._build(batch)
            except Exception:  # the build callable reports its own errors; never die
                traceback.print_exc()
            finally:
                with self._cond:
                    self.builds += 1
                    self._busy = False
                    self._cond.notify_all()
