"""Render page jobs, across processes when there are many.

In: the Jinja environment, the jobs to render, the OutputRecord that stages files.
Out: the paths staged (rendered bytes that differ from disk).

Rendering is CPU-bound Python, so threads do not help; forked workers inherit the
jobs and the compiled templates without pickling them, render a contiguous chunk
each, stage their files themselves and return only the staged paths.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

import jinja2

from site_builder.render import PageJob, render_page
from site_builder.sync import OutputRecord

PARALLEL_MIN_JOBS = 300  # below this, forking workers costs more than it saves (measured)

# Set only in the parent just before forking, read only by the forked children.
_FORK_STATE: dict[str, Any] = {}


def _render_chunk(bounds: tuple[int, int]) -> list[str]:
    env: jinja2.Environment = _FORK_STATE["env"]
    jobs: list[PageJob] = _FORK_STATE["jobs"]
    record: OutputRecord = _FORK_STATE["record"]
    start, stop = bounds
    return [job.path for job in jobs[start:stop] if record.stage(render_page(env, job))]


def render_jobs(env: jinja2.Environment, jobs: list[PageJob], record: OutputRecord,
                workers: int | None = None) -> list[str]:
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if len(jobs) >= PARALLEL_MIN_JOBS else 1
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [job.path for job in jobs if record.stage(render_page(env, job))]
    size = -(-len(jobs) // (workers * 4))
    chunks = [(i, min(i + size, len(jobs))) for i in range(0, len(jobs), size)]
    _FORK_STATE.update(env=env, jobs=jobs, record=record)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            staged = [path for part in pool.map(_render_chunk, chunks) for path in part]
    finally:
        _FORK_STATE.clear()
    return staged
