"""Write a rendered site into the output folder: only changed bytes, atomically per file.

In: the output folder and every OutputFile of the build. Out: the folder holds exactly
those files. Unchanged files are not touched (their mtimes stay, so a preview server
or rsync sees only real changes); stale files from an earlier build are removed.
Nothing here runs until the whole site is rendered in memory, so a failing build never
leaves a half-written site.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from site_builder.errors import BuildError
from site_builder.render import OutputFile

MARKER = ".site-builder"  # marks a folder as ours, so we never clean someone else's


@dataclass
class SyncStats:
    written: int = 0
    unchanged: int = 0
    removed: int = 0


def _safe_target(out: Path, rel: str) -> Path:
    target = (out / rel).resolve()
    if out.resolve() not in target.parents:
        raise BuildError(rel, None, "output path escapes the output folder")
    return target


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sync_output(out: Path, outputs: Iterable[OutputFile], clean: bool = False) -> SyncStats:
    stats = SyncStats()
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise BuildError(str(out), None,
                         "output folder exists and was not made by site-builder; "
                         "refusing to overwrite it (remove it or choose --out)")
    if clean and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_bytes(b"")
    wanted: set[Path] = {out.resolve() / MARKER}
    for output in outputs:
        target = _safe_target(out, output.path)
        wanted.add(target)
        try:
            if target.stat().st_size == len(output.data) and target.read_bytes() == output.data:
                stats.unchanged += 1
                continue
        except FileNotFoundError:
            pass
        _atomic_write(target, output.data)
        stats.written += 1
    for path in sorted(out.resolve().rglob("*"), reverse=True):
        if path.is_file() and path not in wanted:
            path.unlink()
            stats.removed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return stats
