"""paused_gc(): no cyclic garbage collection within a block.

In: nothing. Out: a context manager (and decorator) that turns the collector off for
its block and back on after, if it was on.

Why: building or unpickling a large acyclic object graph (the cache's entries, a whole
build's papers and jobs) made the collector traverse it again and again to free
almost nothing: 0.05 s of loading 5,000 papers' entries (the same trick as in many
pickle-heavy tools). Its own module so that a no-op build, which pauses it too,
imports nothing of the cache.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
