"""fork_map: the same result as one process, in order, with errors intact."""

from __future__ import annotations

import pytest

from site_builder.build.parallel import PARALLEL_MIN_ITEMS, fork_map, worker_count
from site_builder.errors import ContentError


def squares(items: list[int]) -> object:
    def work(start: int, stop: int) -> list[int]:
        return [n * n for n in items[start:stop]]
    return work


@pytest.mark.parametrize("count", [0, 1, 2, 7, 100, 1001])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_equal_one_process_in_order(count: int, workers: int) -> None:
    items = list(range(count))
    assert fork_map(squares(items), count, workers) == [n * n for n in items]  # type: ignore[arg-type]


def test_workers_see_the_parent_state_without_pickling_it() -> None:
    # A closure over a lambda cannot be pickled; forked workers inherit it.
    scale = lambda n: n * 10  # noqa: E731
    out = fork_map(lambda a, b: [scale(n) for n in range(a, b)], 50, workers=2)
    assert out == [n * 10 for n in range(50)]


def test_an_error_in_a_worker_reaches_the_parent_with_file_and_line() -> None:
    def work(start: int, stop: int) -> list[int]:
        if start <= 33 < stop:
            raise ContentError("content/papers/x.md", 7, "field 'comments': not a number")
        return list(range(start, stop))

    with pytest.raises(ContentError) as info:
        fork_map(work, 64, workers=2)
    assert (info.value.file, info.value.line) == ("content/papers/x.md", 7)
    assert "'comments'" in str(info.value)


def test_small_stages_stay_in_this_process() -> None:
    assert worker_count(PARALLEL_MIN_ITEMS - 1) == 1
    assert worker_count(10, workers=2) == 2


def test_a_threaded_process_never_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview server builds on a worker thread while tornado and the watcher run:
    above the parallel threshold a build there must still not fork."""
    import multiprocessing
    import threading

    def refuse(*args: object) -> None:
        raise AssertionError("forked from a threaded process")

    count = PARALLEL_MIN_ITEMS * 2
    results: list[list[int]] = []
    release = threading.Event()
    other = threading.Thread(target=release.wait)  # what tornado's loop would be
    other.start()
    try:
        monkeypatch.setattr(multiprocessing, "get_context", refuse)
        worker = threading.Thread(
            target=lambda: results.append(fork_map(lambda a, b: list(range(a, b)), count)))
        worker.start()
        worker.join()
    finally:
        release.set()
        other.join()
    assert results == [list(range(count))]
