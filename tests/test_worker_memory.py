"""Workers give memory back or are replaced: a run's memory must not grow with its length."""

from __future__ import annotations

import os

import pytest

from memlint.workers import _AHEAD, Footprint, Pool, _current_rss, _rss_reader, heap_trimmer

MiB = 2**20

needs_rss = pytest.mark.skipif(_rss_reader() is None, reason="no way to read a process's memory here")
needs_trim = pytest.mark.skipif(heap_trimmer() is None, reason="no malloc_trim (not glibc)")

_kept: list[object] = []


def _no_init() -> None:
    _kept.clear()


def _keeps_memory_on_3(job: int) -> tuple[int, int]:
    if job == 3:
        _kept.append(b"\x01" * (64 * MiB))  # written, so resident: a leak
    return job, os.getpid()


def _scatters_memory(job: int) -> tuple[int, int]:
    # 100 MiB of C-heap blocks (over pymalloc's 512-byte limit), one in 64
    # kept: the free pages lie between live blocks, where free() alone never
    # returns them to the system (the shape a large syntax tree leaves).
    blocks = [bytes(600) for _ in range(170_000)]
    _kept.extend(blocks[::64])
    del blocks
    return job, os.getpid()


def _failed(job: int, why: str) -> tuple[int, str]:
    return job, why


@needs_rss
def test_a_worker_that_keeps_memory_is_replaced_and_no_job_is_lost() -> None:
    pool: Pool[int, object] = Pool(1, _keeps_memory_on_3, _failed, _no_init, max_growth=32 * MiB)
    results = list(pool.imap(range(12)))
    assert [job for job, _ in results] == list(range(12))  # type: ignore[misc]
    pids = [pid for _, pid in results]  # type: ignore[misc]
    # Jobs already queued to it still run there; every later one runs in a fresh worker.
    leaky = pids[3]
    assert pids[:4] == [leaky] * 4
    assert leaky not in pids[3 + _AHEAD:]
    assert len(set(pids[3 + _AHEAD:])) == 1  # the fresh worker holds no leak: it stays


@needs_rss
@needs_trim
def test_free_heap_inherited_from_the_parent_does_not_hide_a_leak() -> None:
    # A parent that has built and dropped big trees forks workers whose RSS
    # counts its free heap; a trim after the leaking job would hand that back
    # too and mask the 64 MiB the worker keeps, unless the baseline is taken
    # after a trim at start-up.
    blocks = [bytes(600) for _ in range(200_000)]
    kept = blocks[::64]
    del blocks
    try:
        test_a_worker_that_keeps_memory_is_replaced_and_no_job_is_lost()
    finally:
        del kept


@needs_rss
def test_without_a_limit_the_worker_is_kept() -> None:
    pool: Pool[int, object] = Pool(1, _keeps_memory_on_3, _failed, _no_init)
    assert len({pid for _, pid in pool.imap(range(8))}) == 1  # type: ignore[misc]


@needs_rss
@needs_trim
def test_memory_freed_but_scattered_is_handed_back_not_paid_with_a_new_worker() -> None:
    # Each job leaves ~100 MiB free but resident; trimmed after the job, the
    # worker holds only what it kept (~1.6 MiB a job), far below the limit.
    pool: Pool[int, object] = Pool(1, _scatters_memory, _failed, _no_init, max_growth=48 * MiB)
    results = list(pool.imap(range(6)))
    assert [job for job, _ in results] == list(range(6))  # type: ignore[misc]
    assert len({pid for _, pid in results}) == 1  # type: ignore[misc]


@needs_rss
@needs_trim
def test_footprint_trims_free_heap_once_it_passes_half_the_margin() -> None:
    # The mechanism -j1 uses in the one process it has.
    footprint = Footprint(64 * MiB)
    before = _current_rss()
    try:
        _scatters_memory(0)  # ~100 MiB free but resident
        assert _current_rss() - before > 64 * MiB
        assert not footprint.exceeded()  # trimmed: only what it kept remains
        assert _current_rss() - before < 32 * MiB
    finally:
        _kept.clear()


def test_a_spent_worker_is_not_replaced_when_nothing_is_left() -> None:
    pool: Pool[int, object] = Pool(2, _keeps_memory_on_3, _failed, _no_init, max_tasks=1)
    started = []
    start = pool._start
    pool._start = lambda: started.append(1) or start()  # type: ignore[method-assign]
    assert [job for job, _ in pool.imap(range(2))] == [0, 1]  # type: ignore[misc]
    assert len(started) == 2  # one per job; none started after the last result
