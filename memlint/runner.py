"""Runs the engine over many files: per-file settings, parallel workers,
results streamed back in a stable order so memory stays flat."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pathspec

from memlint.config import Config, relative_posix
from memlint.diagnostic import Diagnostic
from memlint.registry import all_rules, select_codes

if TYPE_CHECKING:
    from memlint.cache import ResultCache
    from memlint.engine import LintSettings


@dataclass(frozen=True, slots=True)
class FileResult:
    """What happened to one file."""

    path: str
    diagnostics: tuple[Diagnostic, ...] = ()
    skipped: str | None = None  # why the file was not checked


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
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if _worker_max_size and size > _worker_max_size:
                return FileResult(path, skipped=f"larger than max-file-size ({size:,} > {_worker_max_size:,} bytes)")
            data = handle.read()
    except FileNotFoundError:
        return FileResult(path, skipped="vanished before it could be read")
    except IsADirectoryError:
        return FileResult(path, skipped="is a directory")
    except OSError as exc:
        return FileResult(path, skipped=f"cannot read: {exc.strerror or exc}")
    from memlint.engine import lint_source

    diagnostics = tuple(lint_source(data, path, settings_for_codes(codes, _worker_options)))
    if _worker_cache is not None:
        _worker_cache.store(path, codes, data, diagnostics)
    return FileResult(path, diagnostics)


def _check_job(job: tuple[str, frozenset[str]]) -> FileResult:
    return check_file(*job)


# -- parent side ----------------------------------------------------------
_FILES_PER_WORKER: int = 250

def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _cached(path: str, codes: frozenset[str], cache: ResultCache, max_size: int) -> FileResult | None:
    """The cached result of one file, or None when it must be linted."""
    try:
        with open(path, "rb") as handle:
            if max_size and os.fstat(handle.fileno()).st_size > max_size:
                return None  # the worker reports the skip
            data = handle.read()
    except OSError:
        return None  # the worker reports the problem
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
        for job in jobs_list:
            yield _check_job(job)
        return
    # fork keeps worker start-up cheap (rules are already imported); spawn
    # elsewhere.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    # A worker is replaced after a few hundred files: the allocator's
    # fragmentation left by many large trees would otherwise make its RSS
    # grow with the number of files (re-forking costs milliseconds).
    with context.Pool(jobs, initializer=_init_worker, initargs=(options, max_size, cache),
                      maxtasksperchild=_FILES_PER_WORKER) as pool:
        # imap keeps input order and streams; one file per task keeps both
        # workers busy to the end.
        yield from pool.imap(_check_job, jobs_list, chunksize=1)
