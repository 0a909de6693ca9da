"""Which recorded outputs are still on disk as the last build left them, checked on the
other core while the build reads its inputs.

In: the output folder and the record's columns (paths, sizes, mtimes). Out: per
output, whether its size and mtime are as recorded (``IntactCheck.result``).

Why: every rebuild stats every output it does not render (an output deleted or edited
by hand is made again), one syscall each: at 20,000 papers 43,000 stats, about 0.3 s,
as much as reading the inputs' stamp and more than a third of a no-op build. They
depend on nothing the build computes, so a child forked when the record is read
makes them while this process stamps the inputs, loads the cache and plans; its
answer comes back through a pipe, one byte per output, chunk by chunk from the first
output. When this process needs the answer before the child is done (a no-op build
asks as soon as the inputs are stamped), it stats the outputs from the last one
backwards, taking in what the child has sent between its own chunks, until the two
meet: the work splits itself between the cores.

Never from a threaded process (the preview server): a child forked while another
thread holds a lock can deadlock (build/parallel.py). There, and for small sites,
where forking costs more than it saves, the stats are made here when first needed.
Whatever goes wrong in the child (it dies, answers short), the stats are made here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Sequence

FORK_MIN_OUTPUTS = 4000
"""Fewer outputs are stat'ed in this process: 4,000 stats cost about what a fork does."""
CHUNK = 1024
"""Outputs a side stats between two looks at the other's progress."""


def check(base: str, paths: Sequence[str], sizes: Sequence[int], mtimes: Sequence[int]
          ) -> bytes:
    """One byte per output: 1 when it is on disk with its recorded size and mtime."""
    stat = os.stat
    found = bytearray(len(paths))
    for i, (rel, size, mtime) in enumerate(zip(paths, sizes, mtimes, strict=True)):
        try:
            st = stat(base + rel)
        except (OSError, ValueError):
            continue
        if st.st_size == size and st.st_mtime_ns == mtime:
            found[i] = 1
    return bytes(found)


def single_threaded() -> bool:
    """No other thread runs in this process (forking is safe)."""
    return threading.active_count() == 1


class IntactCheck:
    """``check`` of the record's columns, made in a forked child when it pays."""

    def __init__(self, out: str, paths: Sequence[str], sizes: Sequence[int],
                 mtimes: Sequence[int]) -> None:
        self._args = (os.path.join(out, ""), paths, sizes, mtimes)
        self._result: bytes | None = None
        self._pid = 0
        self._fd = -1
        if len(paths) >= FORK_MIN_OUTPUTS and hasattr(os, "fork") and single_threaded():
            self._fork()

    def _fork(self) -> None:
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return
        if pid == 0:  # the child: answer, then leave without running the parent's exits
            status = 1
            try:
                os.close(read_end)
                base, paths, sizes, mtimes = self._args
                for start in range(0, len(paths), CHUNK):
                    stop = start + CHUNK
                    data = memoryview(check(base, paths[start:stop], sizes[start:stop],
                                            mtimes[start:stop]))
                    while data:
                        data = data[os.write(write_end, data):]
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self._pid, self._fd = pid, read_end

    def result(self) -> bytes:
        """The answer: the child's from the first output on, this process's from the
        last one back, until they meet (all of it here without a child)."""
        if self._result is None:
            self._result = self._meet() if self._pid else check(*self._args)
        return self._result

    def _meet(self) -> bytes:
        base, paths, sizes, mtimes = self._args
        theirs = bytearray()  # the child's answers, for outputs [0, len(theirs))
        ours: list[bytes] = []  # ours, for outputs [end, len(paths)), last chunk first
        end = len(paths)
        child_done = False
        os.set_blocking(self._fd, False)
        while len(theirs) < end:
            if not child_done:
                try:
                    while chunk := os.read(self._fd, 1 << 16):
                        theirs += chunk
                    child_done = True  # end of file: the child has said all it will
                except BlockingIOError:
                    pass
                except OSError:
                    child_done = True
                if len(theirs) >= end:
                    break
            start = max(len(theirs), end - CHUNK)
            ours.append(check(base, paths[start:end], sizes[start:end], mtimes[start:end]))
            end = start
        self.close()  # done with the child, whether it finished or not
        return bytes(theirs[:end]) + b"".join(reversed(ours))

    def close(self) -> None:
        """Stop a child whose answer is not wanted (the build ended first)."""
        if self._pid:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(self._pid, 0)
            self._pid = 0
