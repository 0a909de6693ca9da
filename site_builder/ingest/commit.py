"""Writing ingest's changes without losing an edit the curator saved meanwhile.

In: ingest's planned writes (each with the bytes its paper was read from and how to
redo the update on a fresh copy), and an optional hook (tests pause ingest there).
Out: the files written all-or-nothing (write.commit_files), or a ContentError naming
the file that changed under ingest, with nothing written.

Why: ingest reads every entry at its start and, on a large digest, writes seconds
later. The review page and builds take the project lock, but an editor's save does
not, so the lock alone cannot protect it. Under the lock, each file ingest updates is
read again just before the write: unchanged, the planned bytes go; changed, the
update is redone on the fresh copy (the curator's edit kept, the new source added).
Right before each rename the file is compared once more with what was read; a save
in that last window makes ingest stop and say so (run it again), never overwrite.
The window left is one compare-and-rename, microseconds, not the whole ingest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from site_builder.content import paper_from_bytes, rewrite_front_matter
from site_builder.errors import ContentError
from site_builder.models import Paper
from site_builder.write import commit_files

Hook = Callable[[str, Path], None]
"""Called with ("reread", path) before a file is read again, and ("rename", path)
before its last compare: a deterministic place for a test to save an edit."""


@dataclass(frozen=True)
class Planned:
    path: Path
    seen: bytes | None
    """The bytes the paper was read from at ingest's start; None for a new file."""
    data: bytes
    """What ingest writes when the file is still ``seen``."""
    redo: Callable[[Paper], Paper] | None = None
    """The update applied to a fresh copy of the paper (None for a new file)."""


def _current(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _changed(path: Path, what: str) -> ContentError:
    return ContentError(str(path), None, f"{what} while ingest ran; your version is kept and "
                        "ingest wrote nothing: run ingest again")


def commit_plan(plans: Iterable[Planned], hook: Hook | None = None,
                journal: Path | None = None) -> list[Path]:
    """Write the plans; return the paths whose update was redone on a fresh copy.
    ``journal``: where write.commit_files records the renames, for write.recover."""
    writes: dict[Path, bytes] = {}
    expected: dict[Path, bytes | None] = {}
    redone: list[Path] = []
    for plan in plans:
        if hook is not None:
            hook("reread", plan.path)
        now = _current(plan.path)
        if now == plan.seen:
            writes[plan.path], expected[plan.path] = plan.data, now
            continue
        if plan.seen is None:
            raise _changed(plan.path, "this entry file appeared")
        if now is None or plan.redo is None:
            raise _changed(plan.path, "this entry file was removed")
        fresh = paper_from_bytes(now, plan.path)  # a half-saved file stops ingest, named
        paper = plan.redo(fresh)
        redone.append(plan.path)
        if paper != fresh:
            writes[plan.path] = rewrite_front_matter(now.decode("utf-8"), str(plan.path), paper)
            expected[plan.path] = now

    def unchanged(path: Path) -> None:
        if hook is not None:
            hook("rename", path)
        if _current(path) != expected[path]:
            raise _changed(path, "this entry file changed")

    if writes:
        commit_files(writes, before_replace=unchanged, journal=journal)
    return redone
