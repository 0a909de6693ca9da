"""Run a build stage across forked processes when it has enough work.

In: a function of a range of item indexes, ``work(start, stop) -> list``, and the
number of items. Out: the lists of every range, concatenated in item order, exactly
what ``work(0, count)`` gives in one process.

The stages are CPU-bound Python (YAML, regexes, Jinja, feedgen), so threads do not
help. Forked workers inherit everything the function closes over (papers, compiled
templates, the output record) without pickling it; only the results come back, so a
stage should return little (paths, small tuples) and write its files itself.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from typing import Any, TypeVar

Result = TypeVar("Result")

PARALLEL_MIN_ITEMS = 300
"""Below this many items a stage runs in this process: forking costs more (measured)."""
CHUNKS_PER_WORKER = 4
"""Several chunks per worker even out chunks that cost more than others."""

# Set only in the parent just before forking, read only by the forked children.
_FORK_STATE: dict[str, Any] = {}


def _run_chunk(bounds: tuple[int, int]) -> list[Any]:
    # The parent may have paused the collector (build.py); a worker that renders
    # thousands of pages collects its own garbage (not the parent's: it is frozen).
    gc.enable()
    work: Callable[[int, int], list[Any]] = _FORK_STATE["work"]
    return work(*bounds)


def worker_count(items: int, workers: int | None = None,
                 minimum: int = PARALLEL_MIN_ITEMS) -> int:
    """How many processes a stage of ``items`` items uses (``workers`` forces it)."""
    if workers is None and items < minimum:
        return 1
    import multiprocessing  # 5 ms: an incremental build mostly forks nothing

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, workers) if workers is not None else min(os.cpu_count() or 1, 8)


def fork_map(work: Callable[[int, int], list[Result]], count: int,
             workers: int | None = None, minimum: int = PARALLEL_MIN_ITEMS
             ) -> list[Result]:
    """``work(0, count)``, computed in ranges across forked workers when it pays."""
    processes = worker_count(count, workers, minimum)
    if processes <= 1 or count < 2:
        return work(0, count)
    size = -(-count // (processes * CHUNKS_PER_WORKER))
    chunks = [(i, min(i + size, count)) for i in range(0, count, size)]
    import multiprocessing

    _FORK_STATE["work"] = work
    # Everything the parent holds moves out of the collector's sight first, so the
    # workers' collections do not walk (and, by touching, copy) the inherited objects.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return [item for part in pool.map(_run_chunk, chunks) for item in part]
    finally:
        gc.unfreeze()
        _FORK_STATE.clear()
