"""Runs the engine over many files: per-file settings, parallel workers,
results streamed back in a stable order so memory stays flat."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pathspec

from memlint.config import Config, relative_posix
from memlint.diagnostic import FileResult
from memlint.registry import all_rules, select_codes
from memlint.workers import Footprint, Pool

if TYPE_CHECKING:
    from memlint.cache import ResultCache
    from memlint.engine import LintSettings


@dataclass(slots=True)
class Selection:
    """Enabled codes for the run and, through per-file-ignores, for each file."""

    config: Config
    base_codes: frozenset[str] = field(init=False)
    _per_file: list[tuple[pathspec.PathSpec, list[str]]] = field(init=False)

    def __post_init__(self) -> None:
        c = self.config
        self.base_codes = select_codes(c.select, c.ignore, c.extend_select)
        self._per_file = [
            (pathspec.GitIgnoreSpec.from_lines([pattern]), codes)
            for pattern, codes in c.per_file_ignores.items()
        ]

    def codes_for(self, path: str) -> frozenset[str]:
        if not self._per_file:
            return self.base_codes
        relative = relative_posix(Path(path), self.config.root)
        ignored = [code for spec, codes in self._per_file if spec.match_file(relative) for code in codes]
        if not ignored:
            return self.base_codes
        return frozenset(code for code in self.base_codes if not any(code.startswith(i.upper()) for i in ignored))


# -- worker side ----------------------------------------------------------
_settings_cache: dict[frozenset[str], LintSettings] = {}
_worker_options: dict[str, Any] = {}
_worker_max_size: int = 0
_worker_cache: ResultCache | None = None


def _init_worker(options: dict[str, Any], max_size: int, cache: ResultCache | None = None) -> None:
    global _worker_max_size, _worker_cache
    _worker_options.clear()
    _worker_options.update(options)
    _worker_max_size = max_size
    _worker_cache = cache
    _settings_cache.clear()


def settings_for_codes(codes: frozenset[str], options: dict[str, Any]) -> LintSettings:
    # The engine (and with it libcst, ~0.2 s to import) is loaded only when a
    # file must really be linted: a warm cached run never needs it.
    from memlint.engine import LintSettings

    settings = _settings_cache.get(codes)
    if settings is None:
        settings = LintSettings(
            rules=tuple(rule for rule in all_rules() if rule.code in codes),
            options=options,
            report_syntax_errors="MEM001" in codes,
            report_internal_errors="MEM002" in codes,
        )
        _settings_cache[codes] = settings
    return settings


def check_file(path: str, codes: frozenset[str]) -> FileResult:
    """Read and lint one file; never raises for file-system trouble."""
    data_or_reason = read_source(path, _worker_max_size)
    if isinstance(data_or_reason, str):
        return FileResult(path, skipped=data_or_reason)
    from memlint.engine import lint_source  # lazy: a warm run never imports libcst

    diagnostics = tuple(lint_source(data_or_reason, path, settings_for_codes(codes, _worker_options)))
    if _worker_cache is not None:
        _worker_cache.store(path, codes, data_or_reason, diagnostics)
    return FileResult(path, diagnostics)


def read_source(path: str, max_size: int) -> bytes | str:
    """The file's bytes, or why it cannot be checked. Only regular files are
    read: a FIFO would block forever, a device may have side effects."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return _not_regular(info.st_mode)
        if max_size and info.st_size > max_size:
            return _too_large(info.st_size, max_size)
        # O_NONBLOCK: should the path become a FIFO after the stat, opening
        # it must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with open(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return _not_regular(info.st_mode)
            if max_size and info.st_size > max_size:
                return _too_large(info.st_size, max_size)
            return handle.read()
    except FileNotFoundError:
        return "vanished before it could be read"
    except IsADirectoryError:
        return "is a directory"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"


def _not_regular(mode: int) -> str:
    kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file (FIFO, socket or device)"
    return f"{kind}: not opened"


def _too_large(size: int, max_size: int) -> str:
    return f"larger than max-file-size ({size:,} > {max_size:,} bytes)"


def failed_result(job: tuple[str, frozenset[str]], reason: str) -> FileResult:
    """A file whose check failed outside the engine (its worker died):
    MEM002 when selected, else a skip, so it is never silently lost."""
    path, codes = job
    if "MEM002" in codes:
        from memlint.engine import internal_error

        return FileResult(path, (internal_error(path, reason),))
    return FileResult(path, skipped=reason)


def _check_job(job: tuple[str, frozenset[str]]) -> FileResult:
    try:
        return check_file(*job)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a bug here must cost one file, not the run
        return failed_result(job, f"internal error: {type(exc).__name__}: {exc}")


# -- parent side ----------------------------------------------------------
# Files one worker checks before a fresh one replaces it: a backstop where
# _WORKER_GROWTH cannot be measured (docs/performance.md, "Memory").
_FILES_PER_WORKER = 250
# Memory a worker may keep, after a file and after handing free heap back,
# above what it held after start-up (about 32 MiB) before it is replaced.
# Syntax trees are dropped after each file, so what stays is allocator
# fragmentation or a leak: on the standard library a trimmed worker keeps
# 20-35 MiB and this never fired; without malloc_trim it bounds what a
# worker carries from one file to the next.
_WORKER_GROWTH = 64 * 2**20


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _cached(path: str, codes: frozenset[str], cache: ResultCache, max_size: int) -> FileResult | None:
    """The cached result of one file, or None when it must be linted."""
    data = read_source(path, max_size)
    if isinstance(data, str):
        return None  # the worker reports why it cannot be read
    diagnostics = cache.load(path, codes, data)
    return None if diagnostics is None else FileResult(path, diagnostics)


def run(paths: Iterable[str], selection: Selection, jobs: int, cache: ResultCache | None = None) -> Iterator[FileResult]:
    """Lint ``paths`` (files already discovered); results in input order.

    With a ``cache``, files whose entry is valid are answered from it here
    in the parent; only the others go to the workers (which write their
    entries), so a warm run starts no worker and never loads the engine.
    """
    options = selection.config.options
    max_size = selection.config.max_file_size
    plan = [(path, selection.codes_for(path)) for path in paths]
    hits: dict[int, FileResult] = {}
    if cache is not None:
        for index, (path, codes) in enumerate(plan):
            result = _cached(path, codes, cache, max_size)
            if result is not None:
                hits[index] = result
    misses = [job for index, job in enumerate(plan) if index not in hits]
    if not misses:
        yield from (hits[index] for index in range(len(plan)))
        return
    computed = _compute(misses, options, max_size, cache, min(jobs, len(misses)))
    try:
        for index in range(len(plan)):
            hit = hits.pop(index, None)
            yield hit if hit is not None else next(computed)
    finally:
        computed.close()  # stops the workers now, not at garbage collection


def _compute(
    jobs_list: list[tuple[str, frozenset[str]]],
    options: dict[str, Any],
    max_size: int,
    cache: ResultCache | None,
    jobs: int,
) -> Iterator[FileResult]:
    # Import the rules and the engine once, before forking, not in each worker.
    import memlint.engine  # noqa: F401

    all_rules()
    if jobs <= 1:
        _init_worker(options, max_size, cache)
        # This process cannot be replaced, but it can hand back the heap
        # the files' trees leave free, as the workers do (see Footprint).
        footprint = Footprint(_WORKER_GROWTH)
        for job in jobs_list:
            yield _check_job(job)
            footprint.exceeded()
        return
    # Not multiprocessing.Pool: it waits forever for the result of a worker
    # that died (segfault, OOM killer); this pool reports that file instead.
    pool = Pool(jobs, _check_job, failed_result, _init_worker, (options, max_size, cache), max_tasks=_FILES_PER_WORKER,
                max_growth=_WORKER_GROWTH)
    yield from pool.imap(jobs_list)
