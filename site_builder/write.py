"""Guarded, atomic, durable file writes, and the recovery of an interrupted set.

In: a mapping of destination path -> bytes (and optionally the path of a journal).
Out: those files on disk, all or nothing. Every file is first written to a temporary
sibling ``.<name>.<random>.tmp`` and fsync'ed, and so is its folder; only when all are
written are they renamed into place, then the folders are fsync'ed again, so a power
cut leaves either the old or the new files, never an empty one.

If a rename fails (an exception), the files already replaced are restored from
backups, so the folder is exactly as it was. If the process is killed while renaming,
nothing can restore them; that is what the journal is for: written (durably) before
the first rename, it lists every (temporary, destination) pair, and ``recover`` on the
next run completes the renames whose temporaries are still there. ``recover`` also
removes temporaries a kill left before the journal was written (they were never
meant to be seen). Roll-forward, because the temporaries hold exactly what the killed
run meant to write: the result is that of the run had it not been killed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from site_builder.errors import ContentError

_TEMP = re.compile(r"\.(?P<dest>.+)\.[A-Za-z0-9_]{8}\.tmp")
"""The name mkstemp gives ``_write_temp``'s files (8 random characters)."""


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        os.unlink(name)
        # A failed write (ENOSPC) names no file: name the one it was for.
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def _digest(path: Path) -> str | None:
    """The file's bytes as the journal remembers them (None: no such file)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _write_journal(journal: Path, temps: Mapping[Path, Path]) -> None:
    # Each rename with the digest of the file it replaces: recover() completes it only
    # over that very file, never over a save made after the kill.
    renames = [[temp.name, path.name, _digest(path)] for path, temp in temps.items()]
    temp = _write_temp(journal, json.dumps({"renames": renames}, indent=0).encode())
    os.replace(temp, journal)
    _fsync_dir(journal.parent)


def commit_files(files: Mapping[Path, bytes],
                 before_replace: Callable[[Path], None] | None = None,
                 journal: Path | None = None) -> None:
    """Replace every file in ``files`` atomically as a set. ``before_replace(path)``
    runs right before each rename and may raise to stop (and undo) the whole set:
    ingest checks there that nobody saved the file meanwhile. With ``journal`` (a path
    in the one folder all of ``files`` are in), a kill while renaming is completed by
    the next ``recover(journal)``."""
    temps: dict[Path, Path] = {}
    try:
        for path in sorted(files):
            temps[path] = _write_temp(path, files[path])
        for folder in sorted({p.parent for p in temps}):
            _fsync_dir(folder)
        if journal is not None and temps:
            _write_journal(journal, temps)
    except BaseException:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
        raise
    backups: dict[Path, bytes | None] = {}
    try:
        for path, temp in temps.items():
            if before_replace is not None:
                before_replace(path)
            backups[path] = path.read_bytes() if path.exists() else None
            os.replace(temp, path)
        for folder in sorted({p.parent for p in temps}):
            _fsync_dir(folder)
    except BaseException:
        for path, old in backups.items():
            if old is None:
                path.unlink(missing_ok=True)
            else:
                restore = _write_temp(path, old)
                os.replace(restore, path)
        for temp in temps.values():
            temp.unlink(missing_ok=True)
        raise
    finally:
        if journal is not None:
            journal.unlink(missing_ok=True)


def recover(journal: Path) -> tuple[int, int, list[Path]]:
    """Complete the renames ``journal`` lists (a set a kill interrupted), then remove
    every temporary ``_write_temp`` left in its folder. Returns (files completed,
    temporaries removed, files left as they are because they changed since the kill).
    Call it under the lock that serialises the writers."""
    folder = journal.parent
    completed = 0
    kept: list[Path] = []
    if journal.exists():
        try:
            pairs = json.loads(journal.read_text(encoding="utf-8"))["renames"]
            if not isinstance(pairs, list):
                raise TypeError
        except (ValueError, KeyError, TypeError) as exc:
            raise ContentError(str(journal), None, "unreadable journal of an interrupted "
                               "write; remove it (and check the files) to go on") from exc
        for pair in pairs:
            # Only ever a temporary of ours renamed to the file it was made for, in this
            # folder: the journal is a file like any other and may have been edited.
            temp, dest, before = (pair if isinstance(pair, list) and len(pair) == 3
                                  else ("", "", None))
            match = _TEMP.fullmatch(str(temp))
            if match is None or match["dest"] != dest or "/" in dest or "\\" in dest:
                continue
            if not (folder / temp).is_file():
                continue  # renamed before the kill
            if _digest(folder / dest) != before:
                kept.append(folder / dest)  # saved by someone since: theirs is kept
                continue
            os.replace(folder / temp, folder / dest)
            completed += 1
        _fsync_dir(folder)
        journal.unlink()
    removed = 0
    if folder.is_dir():
        for name in sorted(os.listdir(folder)):
            if _TEMP.fullmatch(name) and (folder / name).is_file():
                (folder / name).unlink()
                removed += 1
    return completed, removed, kept
