"""A small process pool that survives its workers: a crashed or killed worker
costs one file (reported), never the run; Ctrl-C leaves no process behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Any, Generic, TypeVar

_J = TypeVar("_J")
_R = TypeVar("_R")

# Jobs queued in a worker's pipe besides the one it is running: enough to
# hide the round trip, few enough that a death re-queues little.
_AHEAD = 2
_STOP_GRACE = 2.0  # seconds a worker gets to exit before it is killed
_TRIM_AT = 0.5  # a worker trims its heap past this fraction of max_growth


class Footprint:
    """A worker's resident memory, checked after each job.

    Measured on the standard library, the memory a worker holds between two
    files is almost all *free* heap: glibc returns freed memory to the system
    only from the top of its heap, so the scattered pages that a big file's
    syntax tree leaves free stay resident, and a worker's RSS ratchets up with
    every new layout of large trees (32 MiB after start-up, 180-250 MiB after
    250 files). Two workers at such a level at once set the run's peak, and a
    longer run gives that more chances: peak RSS grew with the number of
    files. ``malloc_trim`` hands those pages back (the same worker then stays
    under 70 MiB between files). Where it is not available
    (musl, macOS) or not enough (fragmented small-object arenas, a leak), a
    worker that has grown more than ``max_growth`` past its start-up is
    replaced: the pool then holds at most that much per worker between files.
    """

    __slots__ = ("_base", "_max_growth", "_read", "_trim")

    def __init__(self, max_growth: int) -> None:
        self._max_growth = max_growth
        self._read = _rss_reader()
        # A trim lowers the current RSS, not a high-water mark.
        self._trim = heap_trimmer() if self._read is _current_rss else None
        if self._trim is not None:
            # A forked worker's RSS counts the free heap it inherited from the
            # parent; a later trim would hand that back too and hide growth
            # of the worker's own. Measure from the trimmed level.
            self._trim()
        self._base = self._read() if self._read is not None else 0

    def exceeded(self) -> bool:
        """True when this worker should be replaced once its queue is empty."""
        if self._read is None:
            return False
        growth = self._read() - self._base
        # Trimmed pages cost a page fault each when a later file reuses
        # them, so trim only once the worker holds enough to be worth it:
        # on a cold run of the standard library, trimming after every file
        # cost 3.9% more CPU, trimming past half the margin 1.8%, for a
        # peak 3% higher.
        if self._trim is not None and growth > self._max_growth * _TRIM_AT:
            self._trim()
            growth = self._read() - self._base
        return growth > self._max_growth


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _current_rss() -> int:
    with open("/proc/self/statm", "rb") as handle:
        return int(handle.read().split()[1]) * _PAGE_SIZE


def _peak_rss() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def _rss_reader() -> Callable[[], int] | None:
    """The cheapest reading of this process's memory: current RSS from
    /proc (Linux), else the high-water mark from getrusage (a worker is then
    replaced after the first job that pushed it past the margin, which is
    what the current RSS would show without a trim anyway), else nothing."""
    try:
        _current_rss()
        return _current_rss
    except (OSError, ValueError, IndexError):
        pass
    try:
        _peak_rss()
        return _peak_rss
    except (ImportError, OSError):  # no resource module (Windows)
        return None


def heap_trimmer() -> Callable[[], object] | None:
    """A call that returns the free pages of the C heap to the system:
    glibc's ``malloc_trim(0)``, which releases them anywhere in the heap,
    not only at its top. None where there is no such call (musl, macOS,
    Windows)."""
    try:
        import ctypes

        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (ImportError, OSError, TypeError):
        return None
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


def death_reason(exitcode: int | None) -> str:
    """How a worker process ended, in words."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (out of memory?)" if -exitcode == signal.SIGKILL else ""
        return f"memlint's worker process was killed by {name}{hint} while checking this file"
    return f"memlint's worker process exited unexpectedly (status {exitcode}) while checking this file"


def _dumps(value: object) -> bytes:
    return ForkingPickler.dumps(value).tobytes()


def _worker_main(conn: Connection, inherited: list[Connection], function: Callable[[Any], Any],
                 initializer: Callable[..., None], initargs: tuple[Any, ...], max_growth: int = 0) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and
    # stops the workers, which must not print tracebacks of their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # terminate() must end a worker at once, whatever handler the parent set.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for other in inherited:
        # A forked child holds the parent's pipe ends; closed, the pipe
        # reports EOF when the parent dies and the worker exits.
        other.close()
    initializer(*initargs)
    footprint = Footprint(max_growth) if max_growth else None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, job = message
        try:
            ok, value = True, function(job)
        except Exception as exc:  # noqa: BLE001 - reported for this job; the worker goes on
            ok, value = False, f"{type(exc).__name__}: {exc}"
        # Checked before replying, so the parent learns it with this result
        # and queues nothing more to this worker.
        retire = footprint is not None and footprint.exceeded()
        try:
            reply: tuple[int, bool, Any, bool] = (index, ok, value, retire)
            payload = _dumps(reply)
        except Exception as exc:  # noqa: BLE001 - an unpicklable result: reported for this job
            payload = _dumps((index, False, f"{type(exc).__name__}: {exc}", retire))
        try:
            conn.send_bytes(payload)
        except OSError:  # the parent is gone
            return


class _Worker:
    __slots__ = ("conn", "process", "retiring", "running", "sent")

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.sent = 0
        self.retiring = False  # it asked to be replaced (memory): no more jobs
        self.running: deque[tuple[int, Any]] = deque()  # in the order the worker takes them


class Pool(Generic[_J, _R]):
    """``imap``: results in input order, streamed. ``on_failure(job, reason)``
    turns a job that raised, or that a worker died on, into a result."""

    def __init__(self, size: int, function: Callable[[_J], _R], on_failure: Callable[[_J, str], _R],
                 initializer: Callable[..., None], initargs: tuple[Any, ...] = (), max_tasks: int = 0,
                 max_growth: int = 0) -> None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self._context = multiprocessing.get_context(method)
        self._size = size
        self._function = function
        self._on_failure = on_failure
        self._initializer = initializer
        self._initargs = initargs
        # A worker is replaced after this many jobs (0: never): a backstop for
        # slow growth under max_growth, and where a worker's memory cannot be
        # read at all; a fork costs milliseconds.
        self._max_tasks = max_tasks
        # A worker whose RSS after a job exceeds its RSS after start-up by
        # more than this many bytes is replaced (0: never); see Footprint.
        self._max_growth = max_growth
        self._workers: list[_Worker] = []

    def imap(self, jobs: Iterable[_J]) -> Iterator[_R]:
        try:
            yield from self._run(jobs)
        finally:
            self.stop()

    def _run(self, jobs: Iterable[_J]) -> Iterator[_R]:
        pending: deque[tuple[int, _J]] = deque(enumerate(jobs))
        done: dict[int, _R] = {}
        next_index = 0
        total = len(pending)
        for _ in range(min(self._size, total)):
            self._workers.append(self._start())
        while next_index < total:
            self._feed(pending)
            for worker in self._ready():
                self._collect(worker, done, pending)
            while next_index in done:
                yield done.pop(next_index)
                next_index += 1

    def _start(self) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        inherited = [parent_end, *(worker.conn for worker in self._workers)]
        # A forked child inherits unflushed output and would write it again.
        sys.stdout.flush()
        sys.stderr.flush()
        process = self._context.Process(
            target=_worker_main,
            args=(child_end, inherited if self._context.get_start_method() == "fork" else [],
                  self._function, self._initializer, self._initargs, self._max_growth),
            daemon=True,
        )
        process.start()
        child_end.close()
        return _Worker(process, parent_end)

    def _feed(self, pending: deque[tuple[int, _J]]) -> None:
        for worker in self._workers:
            while pending and len(worker.running) < _AHEAD and not self._spent(worker):
                item = pending.popleft()
                try:
                    worker.conn.send(item)
                except OSError:  # died: its sentinel says so next
                    pending.appendleft(item)
                    break
                worker.running.append(item)
                worker.sent += 1

    def _spent(self, worker: _Worker) -> bool:
        return worker.retiring or (bool(self._max_tasks) and worker.sent >= self._max_tasks)

    def _ready(self) -> list[_Worker]:
        # Every sentinel, so that a worker dying between two jobs is replaced.
        handles: list[Any] = [w.process.sentinel for w in self._workers]
        handles += [w.conn for w in self._workers if w.running]
        ready = set(wait(handles))
        return [w for w in self._workers if w.conn in ready or w.process.sentinel in ready]

    def _collect(self, worker: _Worker, done: dict[int, _R], pending: deque[tuple[int, _J]]) -> None:
        try:
            while worker.running and worker.conn.poll():
                index, ok, value, retire = worker.conn.recv()
                _, job = worker.running.popleft()
                # The jobs already queued to it (at most _AHEAD - 1) still
                # run there; then it is replaced.
                worker.retiring = worker.retiring or retire
                done[index] = value if ok else self._on_failure(job, f"internal error: {value}")
        except (EOFError, OSError):
            pass
        if worker.process.is_alive():
            if self._spent(worker) and not worker.running:
                self._retire(worker)
                if pending:
                    self._workers[self._workers.index(worker)] = self._start()
                else:  # nothing left for a fresh one to do
                    self._workers.remove(worker)
            return
        # Dead: the job it was running is lost; the ones queued behind it go
        # back to the front of the line for a fresh worker.
        worker.process.join()
        if worker.running:
            index, job = worker.running.popleft()
            done[index] = self._on_failure(job, death_reason(worker.process.exitcode))
            pending.extendleft(reversed(worker.running))
            worker.running.clear()
        worker.conn.close()
        self._workers[self._workers.index(worker)] = self._start()

    def _retire(self, worker: _Worker) -> None:
        try:
            worker.conn.send(None)
        except OSError:
            worker.process.terminate()
        worker.process.join(_STOP_GRACE)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()

    def stop(self) -> None:
        """Stop every worker: politely when idle, by signal otherwise."""
        workers, self._workers = self._workers, []
        for worker in workers:
            if worker.running or not worker.process.is_alive():
                worker.process.terminate()
            else:
                try:
                    worker.conn.send(None)
                except OSError:
                    worker.process.terminate()
        for worker in workers:
            worker.process.join(_STOP_GRACE)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
