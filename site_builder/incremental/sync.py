"""Write a build into the output folder: only changed bytes, never a half-built site.

In: the output folder, the outputs of a build (rendered now, or known current from the
record of the previous build). Out: the folder holds exactly those files.

Rendered files whose bytes differ from disk are first written to a staging folder next
to the output; only when the whole build has rendered are they moved into place, so a
failing build leaves the previous site untouched. Unchanged files are not touched.

The build record (per output: a fingerprint of every input it was made from, and the
file's size and mtime) lets the next build skip outputs whose inputs did not change.
It is deleted before the first file moves and written again after the last, so after
a crash mid-build there is no record and the next build re-renders everything.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from site_builder.errors import BuildError
from site_builder.incremental.intact import IntactCheck

if TYPE_CHECKING:
    from site_builder.models import OutputFile

MARKER = ".site-builder"  # marks a folder as ours, so we never clean someone else's
RECORD_VERSION = 4
"""4: the outputs as four parallel lists (paths, fingerprints, sizes, mtimes), which
JSON reads three times faster than a dict of 43,000 small lists (20,000 papers)."""
SEARCH_DIR = "pagefind"
"""The search index: staged whole by build/search.py, swapped in whole by commit."""


@dataclass
class SyncStats:
    rendered: int = 0
    written: int = 0
    unchanged: int = 0
    skipped: int = 0
    removed: int = 0


class OutputRecord:
    def __init__(self, out: Path, record_path: Path, clean: bool) -> None:
        self.out = out
        self.record_path = record_path
        self.staging = out.parent / f".{out.name}.staging"
        # The recorded outputs, as read: parallel columns (a no-op build only checks
        # their stats); ``outputs`` makes the dict by path when a build needs it.
        self._paths: list[str] = []
        self._fps: list[str] = []
        self._sizes: list[int] = []
        self._mtimes: list[int] = []
        self._outputs: dict[str, list[object]] | None = None
        self.stamp = ""
        self.rest = ""  # the stamp of every input but the entry files (stamp.py)
        self.warnings: list[str] = []
        self.search: str | None = None  # what the index was made from (build/search.py)
        self._current: set[str] = set()
        self._made: set[str] = set()  # staging folders already created
        self._loaded = False
        self._check: IntactCheck | None = None
        self._intact: set[str] | None = None
        if out.exists() and not out.is_dir():
            raise BuildError(str(out), None, "the output folder is a file: remove it or "
                             "choose another --out")
        if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
            raise BuildError(str(out), None,
                             "output folder exists and was not made by site-builder; "
                             "refusing to overwrite it (remove it or choose --out)")
        if clean:
            record_path.unlink(missing_ok=True)
        elif record_path.exists():
            try:
                data = json.loads(record_path.read_text(encoding="utf-8"))
                if data.get("version") == RECORD_VERSION:
                    columns = data["paths"], data["fps"], data["sizes"], data["mtimes"]
                    if len({len(column) for column in columns}) != 1:
                        raise ValueError("columns of different lengths")
                    self._paths, self._fps, self._sizes, self._mtimes = columns
                    self.stamp = data["stamp"]
                    self.warnings, self.rest = data.get("warnings", []), data.get("rest", "")
                    self.search = data.get("search")
                    self._loaded = True
            except (OSError, ValueError, KeyError, TypeError):
                self._paths, self._fps, self._sizes, self._mtimes = [], [], [], []
                self._loaded = False
        shutil.rmtree(self.staging, ignore_errors=True)

    def _stat(self, rel: str) -> list[int] | None:
        try:
            st = os.stat(os.path.join(self.out, rel))
        except OSError:
            return None
        return [st.st_size, st.st_mtime_ns]

    def current_bytes(self, rel: str) -> bytes:
        """An output as this build leaves it: staged now, else as it is on disk."""
        staged = os.path.join(self.staging, rel)
        return Path(staged if os.path.exists(staged) else os.path.join(self.out, rel)
                    ).read_bytes()

    def search_current(self) -> bool:
        """The search index is not left pending (a no-op build may stop here)."""
        return self.search != ""

    @property
    def outputs(self) -> dict[str, list[object]]:
        """By path, each recorded output's [fingerprint, size, mtime]."""
        if self._outputs is None:
            self._outputs = {rel: [fp, size, mtime] for rel, fp, size, mtime in zip(
                self._paths, self._fps, self._sizes, self._mtimes, strict=True)}
        return self._outputs

    @property
    def count(self) -> int:
        """How many outputs the record holds."""
        return len(self._paths) if self._outputs is None else len(self._outputs)

    def start_check(self) -> None:
        """Start stat'ing the recorded outputs (incremental/intact.py): on the other
        core when it pays. End with ``stop_check``."""
        if self._paths and self._check is None:
            self._check = IntactCheck(str(self.out), self._paths, self._sizes, self._mtimes)

    def stop_check(self) -> None:
        if self._check is not None:
            self._check.close()

    def _intact_paths(self) -> set[str] | None:
        """The recorded outputs on disk as recorded, if the check was started."""
        if self._intact is None and self._check is not None:
            self._intact = {rel for rel, ok in zip(self._paths, self._check.result(),
                                                   strict=True) if ok}
        return self._intact

    def outputs_intact(self) -> bool:
        """Every recorded output is still on disk exactly as the last build left it."""
        if not self._paths:
            return False
        if self._check is not None:
            return 0 not in self._check.result()
        # One stat per output on every rebuild, no-op included: kept to the syscall.
        stat, base = os.stat, os.path.join(self.out, "")
        try:
            for rel, size, mtime in zip(self._paths, self._sizes, self._mtimes, strict=True):
                st = stat(base + rel)
                if st.st_size != size or st.st_mtime_ns != mtime:
                    return False
        except (OSError, TypeError):
            return False
        return True

    def is_current(self, rel: str, fingerprint: str) -> bool:
        rec = self.outputs.get(rel)
        if rec is None or rec[0] != fingerprint:
            return False
        intact = self._intact_paths()
        if (rel not in intact) if intact is not None else self._stat(rel) != rec[1:]:
            return False
        self._current.add(rel)  # untouched by this build: its recorded stat stays valid
        return True

    def as_recorded(self, paths: Iterable[str]) -> dict[str, str]:
        """Those of ``paths`` that are current with the fingerprint recorded for them
        (``is_current``): by path, that fingerprint."""
        outputs, intact = self.outputs, self._intact_paths()
        if intact is None:
            return {rel: fp for rel in paths if (rec := outputs.get(rel)) is not None
                    and self.is_current(rel, fp := str(rec[0]))}
        found = {rel: str(outputs[rel][0]) for rel in paths if rel in intact}
        self._current.update(found)
        return found

    def trust_all(self) -> None:
        """Every recorded output is current (the caller has checked outputs_intact)."""
        self._current.update(self.outputs)

    def stage(self, output: OutputFile) -> bool:
        """Stage one rendered file if its bytes differ from disk; True when staged."""
        target = self.out / output.path
        try:
            if target.stat().st_size == len(output.data) and target.read_bytes() == output.data:
                return False
        except OSError:
            pass
        staged = os.path.join(self.staging, output.path)
        folder = os.path.dirname(staged)
        try:
            if folder not in self._made:
                os.makedirs(folder, exist_ok=True)
                self._made.add(folder)
            with open(staged, "wb") as handle:
                handle.write(output.data)
        except OSError as exc:
            # A full disk or a read-only folder: name the file, and leave no staging
            # folder filling the disk (the output folder is untouched so far).
            shutil.rmtree(self.staging, ignore_errors=True)
            raise BuildError(staged, None, f"cannot write: {exc.strerror or exc}") from exc
        return True

    def _prune_empty(self, rel_dir: str) -> None:
        """Remove rel_dir and its parents while they are empty (never the output itself)."""
        while rel_dir:
            folder = os.path.join(self.out, rel_dir)
            if not os.path.isdir(folder) or os.listdir(folder):
                return
            os.rmdir(folder)
            rel_dir = os.path.dirname(rel_dir)

    def _remove_stale(self, wanted: set[str], stats: SyncStats) -> None:
        """Delete files no output claims, then folders left empty (deepest first)."""
        folders: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.out):
            rel_dir = os.path.relpath(dirpath, self.out)
            if rel_dir == ".":
                dirnames[:] = [d for d in dirnames if d != SEARCH_DIR]
            else:
                folders.append(dirpath)
            for name in filenames:
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                if rel not in wanted:
                    os.unlink(os.path.join(dirpath, name))
                    stats.removed += 1
        for folder in sorted(folders, key=len, reverse=True):
            if not os.listdir(folder):
                os.rmdir(folder)

    def _swap_search(self, search: str | None) -> None:
        """The staged index replaces the published one whole; with search off
        (``None``) a published index is removed. The old one is moved out of the site
        (into the staging folder, deleted next) before the new one moves in."""
        new, live = self.staging / SEARCH_DIR, self.out / SEARCH_DIR
        if not new.is_dir() and search is not None:
            return
        if live.exists():
            live.rename(self.staging / f".{SEARCH_DIR}.old")
        if new.is_dir():
            new.rename(live)

    def commit(self, staged: Iterable[str], fingerprints: dict[str, str], stamp: str,
               warnings: list[str], stats: SyncStats, rest: str = "",
               search: str | None = None) -> None:
        """Move staged files into place (a staged search index whole), remove stale
        ones, record what was built. ``search``: see build/search.stage_search."""
        self.record_path.unlink(missing_ok=True)
        staged_set = set(staged)
        fresh = not self.out.exists() and self.staging.exists()
        if fresh:
            # A first build: the staging folder is the whole site, moved in one rename,
            # marked as ours before it moves (a crash between the two used to leave an
            # unmarked _site that every later build refused to touch).
            (self.staging / MARKER).touch()
            os.rename(self.staging, self.out)
            stats.written += len(staged_set)
        else:
            self.out.mkdir(parents=True, exist_ok=True)
            made: set[str] = set()
            for rel in sorted(staged_set):
                target = os.path.join(self.out, rel)
                folder = os.path.dirname(target)
                if folder not in made:
                    os.makedirs(folder, exist_ok=True)
                    made.add(folder)
                os.replace(os.path.join(self.staging, rel), target)
                stats.written += 1
            self._swap_search(search)
        (self.out / MARKER).touch()
        shutil.rmtree(self.staging, ignore_errors=True)
        wanted = set(fingerprints) | {MARKER}
        if fresh:
            pass  # it holds exactly what this build staged: nothing can be stale
        elif self._loaded:
            # The previous build's record lists every file it made: only those can be stale.
            for rel in sorted(set(self.outputs) - wanted):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.out, rel))
                    stats.removed += 1
                self._prune_empty(os.path.dirname(rel))
        else:
            self._remove_stale(wanted, stats)
        # The columns straight away (43,000 outputs at 20,000 papers): an output this
        # build left untouched keeps its recorded stat, any other is stat'ed now.
        paths = sorted(fingerprints)
        recorded, current = self.outputs, self._current
        sizes: list[int] = []
        mtimes: list[int] = []
        for rel in paths:
            if rel in current and rel not in staged_set:
                _, size, mtime = recorded[rel]
            else:
                size, mtime = self._stat(rel) or [0, 0]
            sizes.append(size)  # type: ignore[arg-type]
            mtimes.append(mtime)  # type: ignore[arg-type]
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.record_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": RECORD_VERSION, "stamp": stamp, "rest": rest,
                                   "warnings": warnings, "search": search, "paths": paths,
                                   "fps": [fingerprints[rel] for rel in paths],
                                   "sizes": sizes, "mtimes": mtimes}),
                       encoding="utf-8")
        os.replace(tmp, self.record_path)
