"""Guarded, atomic file writes.

In: a mapping of destination path -> bytes. Out: those files on disk, all or nothing.
Every file is first written to a temporary sibling and fsync'ed; only when all are
written are they renamed into place. If a rename fails half way, the files already
replaced are restored from backups, so the folder is exactly as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
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


def commit_files(files: Mapping[Path, bytes]) -> None:
    """Replace every file in ``files`` atomically as a set."""
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
