"""Full-text search without a server: the Pagefind index, staged with the pages it indexes.

In: the HTML outputs of a build (their paths and fingerprints; their bytes from the
staging folder or, when unchanged, from the output folder). Out: ``pagefind/`` (the
index and Pagefind's UI bundle) written into the staging folder, which the build's
commit swaps in whole together with the pages (incremental/sync.py). Only paper pages
are indexed (they carry ``data-pagefind-body``), so a search lists each paper once.

Why Pagefind's service mode, fed by us: the CLI walks the site folder in directory
order, and its index follows that order, so two clean builds on tmpfs differed in 31
index files. Fed page by page in path order, the index is the same on any filesystem.
And because the index is made before anything is moved, a failing or killed indexer
leaves the previous site (pages and index) untouched, and the next build indexes again:
the record names the pages the index was made from, and is written last.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from site_builder.errors import BuildError
from site_builder.incremental.engine import digest

if TYPE_CHECKING:
    from site_builder.build.result import BuildResult
    from site_builder.incremental.sync import OutputRecord

SEARCH_DIR = "pagefind"
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


def search_fingerprint(fingerprints: dict[str, str]) -> str:
    """What the index is made from: every page and its fingerprint (which covers the
    engine, Pagefind's version included)."""
    pages = sorted((p, fp) for p, fp in fingerprints.items() if p.endswith(".html"))
    return digest("search", *(f"{p}\0{fp}" for p, fp in pages))


def stage_search(enabled: bool, record: OutputRecord, fingerprints: dict[str, str],
                 index_search: bool, result: BuildResult) -> str | None:
    """Index the site into the staging folder if its pages changed since the index was
    made (or there is none). Returns what the record keeps: None with search off, the
    search fingerprint once indexed, "" when the index is left for later
    (index_search=False: the preview reloads first; ``result.search_pending``)."""
    if not enabled:
        return None
    wanted = search_fingerprint(fingerprints)
    if record.search == wanted and (record.out / SEARCH_DIR / "pagefind-entry.json").is_file():
        return wanted
    if not index_search:
        result.search_pending = True
        return ""
    pages = [(path, record.current_bytes(path)) for path in fingerprints
             if path.endswith(".html")]
    build_index(pages, record.staging / SEARCH_DIR)
    result.indexed = True
    return wanted


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

    def close(self) -> None:
        # Killed on any error (or interrupt): an indexer never outlives its build.
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def build_index(pages: list[tuple[str, bytes]], into: Path) -> None:
    """Index ``pages`` (site-relative path, HTML bytes), in path order, into ``into``."""
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
    if "pagefind-entry.json" not in written:
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
