"""Pagefind, run: one indexer process per shard, fed pages in path order.

In: shards (name -> the paths of their pages) and a way to read a page's bytes. Out:
one Pagefind bundle per shard under the folder given, their UI files moved up beside
them. Each page is given as Pagefind reads it (search_shards.searched_part). Why
service mode rather than the CLI: see build/search.py, which decides what to index.
Kept apart from it so that a build that indexes nothing (search off, or no shard
changed) loads none of this (subprocess, threads: a tenth of a note edit's imports at
5,000 papers).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import IO, Any

from site_builder.build.search_shards import ENTRY, in_shard, searched_part
from site_builder.errors import BuildError

BATCH = 64
"""Pages sent before reading their answers: both pipes stay far below their buffers."""
EXIT_SECONDS = 120


def pagefind_command() -> list[str]:
    # The binary itself, not `python -m pagefind`: the wrapper doubles the run time.
    try:
        from pagefind_bin import get_executable
    except ImportError:
        found = shutil.which("pagefind")
        if found:
            return [found]
        raise BuildError("pagefind", None,
                         "the search indexer is missing: pip install 'pagefind[bin]' "
                         "(make site installs it), or set site.search: false") from None
    return [str(get_executable())]


def take_shared(bundle: Path, into: Path) -> None:
    """Move a bundle's UI files to ``into``, leaving the bundle a shard's folder."""
    for path in sorted(bundle.iterdir()):
        if path.is_file() and not in_shard(path.name):
            target = into / path.name
            if target.exists():
                path.unlink()  # the same file, from an earlier shard of this build
            else:
                path.replace(target)


class _Group:
    """The indexers of one build: when one fails (or the build is interrupted) the
    others are killed rather than left to finish work nobody will use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: set[_Service] = set()
        self.stopped = False

    def add(self, service: _Service) -> None:
        with self.lock:
            self.running.add(service)
            stopped = self.stopped
        if stopped:
            service.close()
            raise BuildError("pagefind", None, "indexing stopped")

    def discard(self, service: _Service) -> None:
        with self.lock:
            self.running.discard(service)

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            running = list(self.running)
        for service in running:
            service.kill()


_thread = threading.local()  # the _Group a worker thread's indexer belongs to


def build_shards(jobs: dict[str, list[str]], read: Callable[[str], bytes], into: Path
                 ) -> None:
    """Index each shard (name -> its pages, whose bytes ``read`` gives) into
    ``into/NAME``, as many at a time as there are cores, each by its own Pagefind
    process (one process indexes on one core); their UI files, the same for all, are
    moved up to ``into``. A shard's pages are read when it starts, not all at once."""
    if not jobs:
        return
    group = _Group()

    def run(name: str) -> None:
        _thread.group = group
        try:
            build_index([(path, read(path)) for path in jobs[name]], into / name)
        finally:
            _thread.group = None

    pool = ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1),
                              thread_name_prefix="pagefind")
    futures: list[Future[None]] = []
    try:
        futures = [pool.submit(run, name) for name in sorted(jobs)]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future in done and future.exception() is not None:
                future.result()  # raises it
    except BaseException:
        group.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    for future in futures:
        future.result()
    for name in sorted(jobs):
        take_shared(into / name, into)


class _Service:
    """A Pagefind process in ``--service`` mode: base64 JSON messages ending in commas."""

    def __init__(self) -> None:
        try:
            self.proc = subprocess.Popen([*pagefind_command(), "--service"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT)
        except OSError as exc:
            raise BuildError("pagefind", None, f"cannot start the indexer: {exc}") from exc
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.answers = self._read(self.proc.stdout)
        self.sent = 0
        self.group: _Group | None = getattr(_thread, "group", None)
        if self.group is not None:
            self.group.add(self)

    @staticmethod
    def _read(stdout: IO[bytes]) -> Iterator[dict[str, Any]]:
        buffer = b""
        while True:
            chunk = stdout.read1(1 << 16)  # type: ignore[attr-defined]
            if not chunk:
                return
            buffer += chunk
            *messages, buffer = buffer.split(b",")
            for message in messages:
                yield json.loads(base64.b64decode(message))

    def send(self, payload: dict[str, Any]) -> None:
        self.sent += 1
        message = json.dumps({"message_id": self.sent, "payload": payload})
        self.stdin.write(base64.b64encode(message.encode("utf-8")) + b",")

    def answer(self) -> dict[str, Any]:
        self.stdin.flush()
        try:
            answer = next(self.answers)
        except (StopIteration, ValueError) as exc:
            raise BuildError("pagefind", None, "the indexer stopped unexpectedly") from exc
        payload: dict[str, Any] = answer.get("payload") or {}
        if payload.get("type") == "Error":
            raise BuildError("pagefind", None,
                             f"indexing failed: {str(payload.get('message'))[:500]}")
        return payload

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    def close(self) -> None:
        # Killed on any error (or interrupt): an indexer never outlives its build.
        self.kill()
        self.proc.wait()
        if self.group is not None:
            self.group.discard(self)


def build_index(pages: list[tuple[str, bytes]], into: Path) -> None:
    """Index ``pages`` (site-relative path, HTML bytes), in path order, into ``into``:
    one whole Pagefind bundle (index and UI)."""
    shutil.rmtree(into, ignore_errors=True)
    service = _Service()
    try:
        service.send({"type": "NewIndex", "config": None})
        index_id = service.answer()["index_id"]
        ordered = sorted(pages)
        for start in range(0, len(ordered), BATCH):
            batch = ordered[start:start + BATCH]
            for path, html in batch:
                service.send({"type": "AddFile", "index_id": index_id, "file_path": path,
                              "url": None, "file_contents": searched_part(html).decode(
                                  "utf-8", errors="replace")})
            for _ in batch:
                service.answer()
        # The index comes back as data and we write it: in service mode Pagefind can
        # exit (stdin closed) before its own writes finish, leaving empty files.
        service.send({"type": "GetFiles", "index_id": index_id})
        written = _write_files(service.answer().get("files") or [], into)
        service.stdin.close()
        service.proc.wait(timeout=EXIT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        raise BuildError("pagefind", None, "the indexer did not finish writing") from exc
    except OSError as exc:  # a broken pipe: the indexer died
        raise BuildError("pagefind", None, f"indexing failed: {exc}") from exc
    finally:
        service.close()
    if ENTRY not in written:
        raise BuildError("pagefind", None, "indexing wrote no index")


def _write_files(files: list[dict[str, str]], into: Path) -> set[str]:
    """Write the index's files under ``into``; refuse a path that would leave it."""
    written: set[str] = set()
    root = into.resolve()
    for item in sorted(files, key=lambda f: f["path"]):
        rel = item["path"].lstrip("/")
        target = (root / rel).resolve()
        if root not in target.parents:
            raise BuildError("pagefind", None, f"the indexer named a path outside its "
                             f"folder: {rel[:100]!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(item["content"]))
        written.add(rel)
    return written
