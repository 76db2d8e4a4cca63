"""A small process pool that survives its workers: a crashed or killed worker
costs one file (reported), never the run; Ctrl-C leaves no process behind."""

from __future__ import annotations

import multiprocessing
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
                 initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
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
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, job = message
        try:
            reply: tuple[int, bool, Any] = (index, True, function(job))
            payload = _dumps(reply)
        except Exception as exc:  # noqa: BLE001 - reported for this job; the worker goes on
            payload = _dumps((index, False, f"{type(exc).__name__}: {exc}"))
        try:
            conn.send_bytes(payload)
        except OSError:  # the parent is gone
            return


class _Worker:
    __slots__ = ("process", "conn", "running", "sent")

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.sent = 0
        self.running: deque[tuple[int, Any]] = deque()  # in the order the worker takes them


class Pool(Generic[_J, _R]):
    """``imap``: results in input order, streamed. ``on_failure(job, reason)``
    turns a job that raised, or that a worker died on, into a result."""

    def __init__(self, size: int, function: Callable[[_J], _R], on_failure: Callable[[_J, str], _R],
                 initializer: Callable[..., None], initargs: tuple[Any, ...] = (), max_tasks: int = 0) -> None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self._context = multiprocessing.get_context(method)
        self._size = size
        self._function = function
        self._on_failure = on_failure
        self._initializer = initializer
        self._initargs = initargs
        # A worker is replaced after this many jobs (0: never). The allocator's
        # fragmentation after many large trees otherwise makes a long-lived
        # worker's RSS grow with the number of files; a fork costs milliseconds.
        self._max_tasks = max_tasks
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
                  self._function, self._initializer, self._initargs),
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
        return bool(self._max_tasks) and worker.sent >= self._max_tasks

    def _ready(self) -> list[_Worker]:
        # Every sentinel, so that a worker dying between two jobs is replaced.
        handles: list[Any] = [w.process.sentinel for w in self._workers]
        handles += [w.conn for w in self._workers if w.running]
        ready = set(wait(handles))
        return [w for w in self._workers if w.conn in ready or w.process.sentinel in ready]

    def _collect(self, worker: _Worker, done: dict[int, _R], pending: deque[tuple[int, _J]]) -> None:
        try:
            while worker.running and worker.conn.poll():
                index, ok, value = worker.conn.recv()
                _, job = worker.running.popleft()
                done[index] = value if ok else self._on_failure(job, f"internal error: {value}")
        except (EOFError, OSError):
            pass
        if worker.process.is_alive():
            if self._spent(worker) and not worker.running:
                self._retire(worker)
                self._workers[self._workers.index(worker)] = self._start()
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
