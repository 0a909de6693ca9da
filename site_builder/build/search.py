"""Full-text search without a server: the Pagefind index, staged with the pages it indexes.

In: the HTML outputs of a build (their paths and fingerprints; their bytes from the
staging folder or, when unchanged, from the output folder). Out: ``pagefind/`` written
into the staging folder, which the build's commit swaps in whole together with the pages
(incremental/sync.py): Pagefind's UI bundle, one index per shard (``shard-NN/``, see
build/search_shards.py) and the manifest naming them (``shards.json``). Only paper pages
are indexed (they carry ``data-pagefind-body``), so a search lists each paper once.

Why Pagefind's service mode, fed by us: the CLI walks the site folder in directory
order, and its index follows that order, so two clean builds on tmpfs differed in 31
index files. Fed page by page in path order, the index is the same on any filesystem.
And because the index is made before anything is moved, a failing or killed indexer
leaves the previous site (pages and index) untouched, and the next build indexes again:
the record names the index the site was made with, and is written last.

Only shards whose key changed are indexed again, by one Pagefind process each, side by
side; the others are carried over from the published index byte for byte (hard links
into the staging folder, so the published site stays whole until the commit). The
published manifest says which shard was made from what; it is trusted only while the
build record says search was on (a clean build, or one after a crash, has none and
indexes every shard).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from site_builder.build.search_shards import (
    ENTRY,
    MANIFEST,
    in_shard,
    manifest_bytes,
    page_digest,
    plan,
    read_manifest,
    shard_key,
)
from site_builder.errors import BuildError
from site_builder.incremental.engine import digest, engine_digest

if TYPE_CHECKING:
    from site_builder.build.result import BuildResult
    from site_builder.incremental.sync import OutputRecord

SEARCH_DIR = "pagefind"
BATCH = 64
"""Pages sent before reading their answers: both pipes stay far below their buffers."""
EXIT_SECONDS = 120
PAGE_DIGESTS_VERSION = 1


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


def search_fingerprint(keys: dict[str, str]) -> str:
    """What the whole index is made from: every shard and its key (which holds the
    scheme)."""
    return digest("search", *(f"{name}\0{key}" for name, key in sorted(keys.items())))


def stage_search(enabled: bool, record: OutputRecord, fingerprints: dict[str, str],
                 index_search: bool, result: BuildResult) -> str | None:
    """Index into the staging folder the shards whose pages changed since they were
    indexed (or that are not published). Returns what the record keeps: None with
    search off, the search fingerprint once indexed, "" when the index is left for later
    (index_search=False: the preview reloads first; ``result.search_pending``)."""
    if not enabled:
        return None
    # With no record of search (a clean build, search just turned on, a crash) nothing
    # published or remembered is trusted; a pending index ("") is still the one the
    # manifest names.
    trusted = record.search is not None
    scheme, shards = plan(fingerprints)
    engine = engine_digest()
    digests = _PageDigests(record, fingerprints, trusted)
    keys = {name: shard_key(scheme, name, paths, digests, engine)
            for name, paths in shards.items()}
    digests.save()
    wanted = search_fingerprint(keys)
    live = record.out / SEARCH_DIR
    published = read_manifest(live, scheme) if trusted else {}
    if published == keys and _shared_files(live):
        return wanted
    if not index_search:
        result.search_pending = True
        return ""
    stale = sorted(name for name in keys if published.get(name) != keys[name])
    into = record.staging / SEARCH_DIR
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    build_shards({name: shards[name] for name in stale}, record.current_bytes, into)
    for name in sorted(set(keys) - set(stale)):
        _carry_over(live / name, into / name)
    if not stale:
        # The shards are as published, the manifest is not (a shard lost its last
        # paper): the UI files carry over too; with no shard at all, Pagefind makes them.
        if keys and _shared_files(live):
            for rel in _shared_files(live):
                _carry_over(live / rel, into / rel)
        else:
            empty = into / ".empty"
            build_index([], empty)
            _take_shared(empty, into)
            shutil.rmtree(empty)
    (into / MANIFEST).write_bytes(manifest_bytes(scheme, keys))
    result.indexed = True
    return wanted


class _PageDigests:
    """Paper page -> the digest of what Pagefind reads of it, remembered from the last
    build by the page's fingerprint (the same fingerprint makes the same bytes), so an
    edit reads the pages it changed, not every paper page of the site. Kept beside the
    build record; a cache only: lost or unreadable, every page is read."""

    def __init__(self, record: OutputRecord, fingerprints: dict[str, str],
                 trusted: bool) -> None:
        self.path = record.record_path.with_name(f".{record.out.name}.search-pages.json")
        self.read = record.current_bytes
        self.fingerprints = fingerprints
        self.known: dict[str, list[str]] = {}
        self.used: dict[str, list[str]] = {}
        if trusted:
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("version") == PAGE_DIGESTS_VERSION:
                    self.known = data["pages"]

    def __call__(self, path: str) -> str:
        fingerprint = self.fingerprints[path]
        known = self.known.get(path)
        if isinstance(known, list) and len(known) == 2 and known[0] == fingerprint:
            found = str(known[1])
        else:
            found = page_digest(path, self.read(path))
        self.used[path] = [fingerprint, found]
        return found

    def save(self) -> None:
        if self.used == self.known:
            return
        tmp = self.path.with_suffix(".tmp")
        with contextlib.suppress(OSError):
            tmp.write_text(json.dumps({"version": PAGE_DIGESTS_VERSION,
                                       "pages": dict(sorted(self.used.items()))}),
                           encoding="utf-8")
            os.replace(tmp, self.path)


def _shared_files(folder: Path) -> list[str]:
    """The UI files of a published index (empty when its pagefind.js is missing)."""
    try:
        names = sorted(p.name for p in folder.iterdir() if p.is_file())
    except OSError:
        return []
    shared = [n for n in names if not in_shard(n) and n != MANIFEST]
    return shared if "pagefind.js" in shared else []


def _carry_over(source: Path, target: Path) -> None:
    """``source`` (a file, or a shard's folder) into the staging folder, unchanged:
    hard links (the published files are never written, only replaced whole), or a
    copy where links are refused."""
    def place(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
    try:
        if source.is_dir():
            shutil.copytree(source, target, copy_function=place)
        else:
            place(str(source), str(target))
    except OSError as exc:
        raise BuildError(str(source), None, f"cannot carry the search index over: {exc}"
                         ) from exc


def _take_shared(bundle: Path, into: Path) -> None:
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
        _take_shared(into / name, into)


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
                              "url": None,
                              "file_contents": html.decode("utf-8", errors="replace")})
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
