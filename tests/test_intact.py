"""The recorded outputs' stats, made in a forked child (incremental/intact.py): the
same answer as in this process, whatever the child does, and never a fork from a
threaded process."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from site_builder.incremental import intact
from site_builder.incremental.intact import IntactCheck, check

Outputs = tuple[Path, list[str], list[int], list[int]]


@pytest.fixture
def outputs(tmp_path: Path) -> Outputs:
    """Six outputs as a record holds them, then three changed behind its back."""
    out = tmp_path / "_site"
    paths = [f"papers/p{i}/index.html" for i in range(6)]
    for rel in paths:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(f"page {rel}")
    stats = [(out / rel).stat() for rel in paths]
    sizes, mtimes = [s.st_size for s in stats], [s.st_mtime_ns for s in stats]
    (out / paths[1]).unlink()                                       # deleted
    (out / paths[3]).write_text("edited by hand, another size")     # edited
    os.utime(out / paths[4], ns=(mtimes[4] + 10**9, mtimes[4] + 10**9))  # touched
    return out, paths, sizes, mtimes


EXPECTED = bytes([1, 0, 1, 0, 0, 1])


def test_the_check_says_which_outputs_are_as_recorded(outputs: Outputs) -> None:
    out, paths, sizes, mtimes = outputs
    assert check(os.path.join(out, ""), paths, sizes, mtimes) == EXPECTED


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork whatever the size, and whatever threads earlier tests left idle in this
    process (the child only stats files and writes a pipe)."""
    monkeypatch.setattr(intact, "FORK_MIN_OUTPUTS", 0)
    monkeypatch.setattr(intact, "single_threaded", lambda: True)


@pytest.mark.usefixtures("forking")
def test_a_forked_child_gives_the_same_answer(outputs: Outputs) -> None:
    out, paths, sizes, mtimes = outputs
    running = IntactCheck(str(out), paths, sizes, mtimes)
    assert running._pid  # forked
    assert running.result() == EXPECTED
    running.close()


@pytest.mark.usefixtures("forking")
def test_a_child_that_fails_is_answered_here(outputs: Outputs,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    out, paths, sizes, mtimes = outputs
    parent = os.getpid()

    def failing_in_the_child(*args: object) -> bytes:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return check(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(intact, "check", failing_in_the_child)
    running = IntactCheck(str(out), paths, sizes, mtimes)
    assert running._pid and running.result() == EXPECTED


@pytest.mark.usefixtures("forking")
def test_a_child_stopped_before_it_answers_leaves_nothing_behind(outputs: Outputs) -> None:
    out, paths, sizes, mtimes = outputs
    running = IntactCheck(str(out), paths, sizes, mtimes)
    pid = running._pid
    running.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped


def test_no_fork_from_a_threaded_process(outputs: Outputs,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    out, paths, sizes, mtimes = outputs
    monkeypatch.setattr(intact, "FORK_MIN_OUTPUTS", 0)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        running = IntactCheck(str(out), paths, sizes, mtimes)
        assert not running._pid and running.result() == EXPECTED
    finally:
        stop.set()
        other.join()


@pytest.mark.usefixtures("forking")
def test_asked_early_this_process_and_the_child_meet(outputs: Outputs,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow check here, a quicker one in the child, one output a chunk: the answer is
    put together from both (this process stats from the last output back)."""
    out, paths, sizes, mtimes = outputs
    parent = os.getpid()
    here: list[int] = []

    def slowly(base: str, part: list[str], *rest: list[int]) -> bytes:
        if os.getpid() == parent:
            here.append(len(part))
            time.sleep(0.05)
        else:
            time.sleep(0.01)
        return check(base, part, *rest)

    monkeypatch.setattr(intact, "CHUNK", 1)
    monkeypatch.setattr(intact, "check", slowly)
    running = IntactCheck(str(out), paths, sizes, mtimes)
    assert running.result() == EXPECTED
    assert 0 < len(here) < len(paths)  # both sides answered some
