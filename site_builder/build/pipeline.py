"""build_site(): which of three builds an edit needs, under the project lock.

- Nothing changed (the input stamp equals the record's, every output is intact): no
  file is read, nothing is imported beyond this.
- A few papers changed and keep their places: scoped.py plans just the outputs that
  read what changed, as the dependency index records them.
- Anything else: whole.py plans the whole Site, stage by stage.

Both plan and render with the same functions (plan.py), so a job gets the same
fingerprint either way, and either equals a clean build.
"""

from __future__ import annotations

import time
from pathlib import Path

from site_builder.build.result import BuildResult, Stopwatch
from site_builder.errors import os_error
from site_builder.incremental.engine import one_engine
from site_builder.incremental.gcpause import paused_gc
from site_builder.incremental.stamp import input_stamp
from site_builder.incremental.sync import OutputRecord
from site_builder.lock import project_lock

LOCK_WAIT = 120.0
"""Seconds a build waits for another build, ingest or write on the project to finish."""


# The cyclic collector is paused for the build: it repeatedly walked the hundreds of
# thousands of objects a build holds (papers, entries, page jobs) to free almost
# nothing; three full collections were a fifth of a one-paper rebuild of 5,000 papers.
# Forked workers collect again (parallel.py), and the pause ends with the build.
def build_site(config_path: Path, out: Path, base_url: str | None = None,
               clean: bool = False, workers: int | None = None,
               index_search: bool = True, lock_wait: float = LOCK_WAIT) -> BuildResult:
    """Build the site. With index_search=False a needed search index is left to the
    caller (``result.search_pending``): the preview server reloads first, indexes after.

    One build (or ingest, or review-page write) runs on a project at a time: two builds
    of one output folder used to share its staging folder and mix their pages."""
    root = config_path.resolve().parent
    with project_lock(root, f"build {out}", wait=lock_wait,
                      on_wait="waiting for another site-builder to finish"):
        try:
            with one_engine():
                return _build(config_path, out, base_url, clean, workers, index_search)
        except OSError as exc:  # read-only output, full disk...: a message, no traceback
            raise os_error(exc, out) from exc


@paused_gc()
def _build(config_path: Path, out: Path, base_url: str | None, clean: bool,
           workers: int | None, index_search: bool) -> BuildResult:
    started = time.perf_counter()
    # The record lives beside the output folder (like its staging folder), so it goes
    # wherever the output goes and never piles up in the project.
    record = OutputRecord(out, out.parent / f".{out.name}.build-record.json", clean)
    record.start_check()  # the outputs' stats, made while the inputs are stamped
    try:
        return _build_recorded(config_path, out, base_url, clean, workers, index_search,
                               record, started)
    finally:
        record.stop_check()


def _build_recorded(config_path: Path, out: Path, base_url: str | None, clean: bool,
                    workers: int | None, index_search: bool, record: OutputRecord,
                    started: float) -> BuildResult:
    paper_stats: dict[str, tuple[int, int]] = {}
    rest: list[str] = []  # the stamp of every input but the entry files
    stamp = input_stamp(config_path, base_url, out, paper_stats, rest)
    result = BuildResult(out=out)
    if not clean and stamp and record.stamp == stamp and record.search_current() \
            and record.outputs_intact():
        result.noop, result.warnings = True, record.warnings
        result.files = record.count
        result.seconds = time.perf_counter() - started
        return result
    clock = Stopwatch(result.timings, started)
    # The one place the stages are imported: a no-op rebuild needs none of them.
    from site_builder.build.scoped import scoped_rebuild
    from site_builder.build.whole import build_whole

    if not clean and scoped_rebuild(config_path, out, base_url, record, stamp,
                                   rest[0] if rest else "", paper_stats, result, clock,
                                   index_search):
        result.quick = True
    else:
        build_whole(config_path, out, base_url, clean, workers, index_search, record,
                    stamp, rest[0] if rest else "", paper_stats, result, clock)
    result.seconds = time.perf_counter() - started
    return result
