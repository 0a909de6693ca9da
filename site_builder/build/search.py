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

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from site_builder.build.search_shards import (
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
PAGE_DIGESTS_VERSION = 1


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
    from site_builder.build.pagefind import build_index, build_shards, take_shared

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
            take_shared(empty, into)
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
