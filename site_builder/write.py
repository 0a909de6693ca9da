"""Guarded, atomic file writes.

In: a mapping of destination path -> bytes. Out: those files on disk, all or nothing.
Every file is first written to a temporary sibling and fsync'ed; only when all are
written are they renamed into place. If a rename fails half way, the files already
replaced are restored from backups, so the folder is exactly as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path


def _write_temp(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def commit_files(files: Mapping[Path, bytes],
                 before_replace: Callable[[Path], None] | None = None) -> None:
    """Replace every file in ``files`` atomically as a set. ``before_replace(path)``
    runs right before each rename and may raise to stop (and undo) the whole set:
    ingest checks there that nobody saved the file meanwhile."""
    temps: dict[Path, Path] = {}
    try:
        for path in sorted(files):
            temps[path] = _write_temp(path, files[path])
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
