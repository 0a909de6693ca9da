"""Run a build stage across forked processes when it has enough work.

In: a function of a range of item indexes, ``work(start, stop) -> list``, and the
number of items. Out: the lists of every range, concatenated in item order, exactly
what ``work(0, count)`` gives in one process.

The stages are CPU-bound Python (YAML, regexes, Jinja, feedgen), so threads do not
help. Forked workers inherit everything the function closes over (papers, compiled
templates, the output record) without pickling it; only the results come back, so a
stage should return little (paths, small tuples) and write its files itself.

Never from a threaded process: a child forked while another thread holds a lock (the
preview server's tornado loop, its watcher, stdout) can deadlock, and Python 3.12+
warns about exactly that. So with more than one thread alive a stage runs here, in
one process: the preview's rebuilds of the real digest stay well under a second.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

Result = TypeVar("Result")

PARALLEL_MIN_ITEMS = 300
"""Below this many items a stage runs in this process: forking costs more (measured)."""
CHUNKS_PER_WORKER = 4
"""Several chunks per worker even out chunks that cost more than others."""

# Set only in the parent just before forking, read only by the forked children.
_FORK_STATE: dict[str, Any] = {}


def _run_chunk(chunk: tuple[int, int]) -> list[Any]:
    # The parent may have paused the collector (build.py); a worker that renders
    # thousands of pages collects its own garbage (not the parent's: it is frozen).
    gc.enable()
    start, stop = chunk
    work: Callable[[int, int], list[Any]] = _FORK_STATE["work"]
    return work(start, stop)


def worker_count(items: int, workers: int | None = None,
                 minimum: int = PARALLEL_MIN_ITEMS) -> int:
    """How many processes a stage of ``items`` items uses (``workers`` forces it)."""
    if workers is None and items < minimum:
        return 1
    if workers is None and threading.active_count() > 1:
        return 1  # fork-safe: see the module docstring (tests may still force workers)
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

    _FORK_STATE.update(work=work)
    # Everything the parent holds moves out of the collector's sight first, so the
    # workers' collections do not walk (and, by touching, copy) the inherited objects.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            parts = pool.map(_run_chunk, chunks)
    finally:
        gc.unfreeze()
        _FORK_STATE.clear()
    return [item for part in parts for item in part]
