"""The ``memlint`` command: ``check`` (the default), ``rules`` and ``rule CODE``."""

from __future__ import annotations

import argparse
import codecs
import io
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import pathspec

from memlint import __version__
from memlint.baseline import Baseline, BaselineError, BaselineWriter
from memlint.cache import ResultCache
from memlint.config import Config, ConfigError, load_config, relative_posix
from memlint.discovery import Discovery
from memlint.options import parse_str_list
from memlint.diagnostic import RUN_CODES
from memlint.registry import catalogue, is_known_selector
from memlint.report.base import Reporter
from memlint.report.github import GithubReporter
from memlint.report.json_report import JsonReporter
from memlint.report.sarif import SarifReporter
from memlint.report.summary import Summary
from memlint.report.text import TextReporter
from memlint.runner import Selection, default_jobs, run

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143
REPORTERS: dict[str, type[Reporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
    "sarif": SarifReporter,
    "github": GithubReporter,
}


class UsageError(Exception):
    """A bad command line: one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _codes(value: str) -> list[str]:
    codes = [code.strip().upper() for code in value.split(",") if code.strip()]
    for code in codes:
        if not is_known_selector(code):
            raise argparse.ArgumentTypeError(f"unknown rule code or prefix {code!r}")
    return codes


def _jobs(value: str) -> int:
    if value == "auto":
        return default_jobs()
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {value!r}") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError("--jobs must be at least 1")
    return jobs


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="memlint",
        description="Find memory leaks and out-of-memory risks in Python code.",
        epilog="Subcommands: `memlint rules` lists the rules, `memlint rule CODE` explains one.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    parser.add_argument("--select", type=_codes, help="codes or prefixes to enable instead of the defaults (MEM = all rules)")
    parser.add_argument("--extend-select", type=_codes, help="codes or prefixes to enable in addition")
    parser.add_argument("--ignore", type=_codes, help="codes or prefixes to disable")
    parser.add_argument("--exclude", type=parse_str_list, help="glob patterns to skip, replacing the defaults")
    parser.add_argument("--extend-exclude", type=parse_str_list, help="glob patterns to skip in addition")
    parser.add_argument("--format", choices=sorted(REPORTERS), default="text", help="output format (default: text)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE (atomically)")
    parser.add_argument("--statistics", action="store_true", help="print a count per code")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("--jobs", "-j", type=_jobs, default=None, metavar="N", help="worker processes (default: all cores)")
    parser.add_argument("--config", metavar="FILE", help="read [tool.memlint] from FILE instead of the nearest pyproject.toml")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    parser.add_argument("--force-exclude", action="store_true", help="apply exclusions to files named on the command line too (for pre-commit)")
    parser.add_argument("--baseline", metavar="FILE", help="report only findings not recorded in FILE")
    parser.add_argument("--write-baseline", metavar="FILE", help="record the current findings in FILE (atomically) and exit 0")
    parser.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary")
    parser.add_argument("--version", action="version", version=f"memlint {__version__}")
    return parser


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a CI timeout, `kill`): stop the workers and leave like Ctrl-C.
    A KeyboardInterrupt so that nothing on the way up mistakes it for a
    failure of one file."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    _surrogate_safe(sys.stdout)
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        return _dispatch(args_list)
    except _Terminated:
        sys.stderr.write("memlint: terminated\n")
        return _leave_now_if_analysing(EXIT_TERMINATED)
    except UsageError as exc:
        sys.stderr.write(f"memlint: error: {exc}\n")
        return EXIT_ERROR
    except ConfigError as exc:
        sys.stderr.write(f"memlint: config error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("memlint: interrupted\n")
        return _leave_now_if_analysing(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # `memlint | head`: the reader left; say nothing more.
        _silence_stdout()
        return EXIT_CLEAN
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _leave_now_if_analysing(status: int) -> int:
    """An interrupt can leave an analysis thread inside libcst's native
    parser, or just out of it, and finalizing the interpreter then aborts
    the process (SIGABRT, seen with --jobs 1). Once the engine has run, leave
    at once: output is flushed, a partial --output file already removed, the
    workers already stopped."""
    if "memlint.engine" not in sys.modules:
        return status
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def _surrogate_errors(error: UnicodeError) -> tuple[str | bytes, int]:
    """Encoding errors on output: a file name that is not valid UTF-8 (held
    as surrogates, PEP 383) is written back as its original bytes; any other
    unencodable character as a backslash escape. Never a crash."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start:error.end]
    if all(0xDC80 <= ord(char) <= 0xDCFF for char in chunk):
        return bytes(ord(char) - 0xDC00 for char in chunk), error.end
    return codecs.backslashreplace_errors(error)


codecs.register_error("memlint.surrogates", _surrogate_errors)


def _surrogate_safe(stream: IO[str]) -> None:
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="memlint.surrogates")


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] == "rules":
        return _list_rules(argv[1:])
    if argv and argv[0] == "rule":
        return _explain_rule(argv[1:])
    if argv and argv[0] == "check":
        argv = argv[1:]
    return check(build_parser().parse_args(argv))


def _list_rules(argv: list[str]) -> int:
    if argv:
        raise UsageError("`memlint rules` takes no arguments")
    rows = [(r.code, r.name, r.family.value, "yes") for r in RUN_CODES]
    rows += [(r.code, r.name, r.family.value, "yes" if r.default else "no (opt-in)") for r in catalogue()]
    sys.stdout.write(f"{'code':<8}{'name':<36}{'family':<11}default\n")
    for code, name, family, default in rows:
        sys.stdout.write(f"{code:<8}{name:<36}{family:<11}{default}\n")
    return EXIT_CLEAN


def _explain_rule(argv: list[str]) -> int:
    if len(argv) != 1:
        raise UsageError("usage: memlint rule CODE")
    from memlint.docs import rule_text  # the rules' docstrings: imports the rules and libcst

    code = argv[0].upper()
    text = rule_text(code)
    if text is None:
        raise UsageError(f"unknown rule {argv[0]!r}; `memlint rules` lists them")
    sys.stdout.write(text)
    return EXIT_CLEAN


def effective_config(args: argparse.Namespace) -> Config:
    config = load_config(Path(args.config) if args.config else None)
    config = config.with_overrides(
        select=args.select,
        ignore=(config.ignore + args.ignore) if args.ignore else None,
        extend_select=(config.extend_select + args.extend_select) if args.extend_select else None,
        exclude=args.exclude,
        extend_exclude=(config.extend_exclude + args.extend_exclude) if args.extend_exclude else None,
    )
    return config


def check(args: argparse.Namespace) -> int:
    config = effective_config(args)
    selection = Selection(config)
    paths = args.paths or ["."]
    jobs = args.jobs or default_jobs()
    summary = Summary()
    discovery = Discovery(config.exclude + config.extend_exclude, config.root)
    files: list[str] = []
    for found in discovery.files(paths):
        if found.problem is None:
            files.append(found.path)
        elif found.excluded:
            summary.excluded += 1
        elif found.fatal:
            summary.errors.append((found.path, found.problem))
            sys.stderr.write(f"memlint: error: {found.path}: {found.problem}\n")
        else:
            summary.skipped.append((found.path, found.problem))
    # A file reached twice (named and inside a named directory) is checked once.
    files = list(dict.fromkeys(files))
    if args.force_exclude:
        files = _without_excluded(files, config)

    baseline, recorder = _baseline_hooks(args, config.root)
    out, finalize = _open_output(args.output)
    try:
        color = args.format == "text" and args.output is None and _wants_color(sys.stdout)
        reporter = REPORTERS[args.format](out, color=color, statistics=args.statistics, show_summary=not args.quiet)
        progress = _Progress(len(files)) if sys.stderr.isatty() and len(files) > 50 else None
        cache = None if args.no_cache else ResultCache(config.root, config.options)
        for result in run(files, selection, min(jobs, max(len(files), 1)), cache):
            if recorder is not None:
                recorder.add(result)
            if baseline is not None:
                result = baseline.filter(result)
            summary.add(result)
            reporter.file(result)
            if progress is not None:
                progress.step()
        if progress is not None:
            progress.done()
        reporter.finish(summary)
        finalize(True)
    except BaseException:
        finalize(False)
        raise

    if recorder is not None:
        try:
            count = recorder.write(args.write_baseline)
        except BaselineError as exc:
            raise UsageError(str(exc)) from None
        sys.stderr.write(f"memlint: wrote {count} finding{'s' if count != 1 else ''} to baseline {args.write_baseline}\n")
    elif baseline is not None and baseline.fixed() and not args.quiet:
        sys.stderr.write(f"memlint: {baseline.fixed()} baselined finding(s) no longer occur; "
                         f"`--write-baseline {args.baseline}` drops them\n")
    if summary.errors or summary.internal_errors:
        return EXIT_ERROR
    if summary.findings and not args.exit_zero and recorder is None:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _without_excluded(files: list[str], config: Config) -> list[str]:
    """pre-commit names every staged file: [tool.memlint]'s exclusions must
    still apply to them (ruff's and black's --force-exclude)."""
    spec = pathspec.GitIgnoreSpec.from_lines(config.exclude + config.extend_exclude)
    return [f for f in files if not spec.match_file(relative_posix(Path(f), config.root))]


def _baseline_hooks(args: argparse.Namespace, root: Path) -> tuple[Baseline | None, BaselineWriter | None]:
    try:
        baseline = Baseline.load(args.baseline, root) if args.baseline else None
    except BaselineError as exc:
        raise UsageError(str(exc)) from None
    return baseline, BaselineWriter(root) if args.write_baseline else None


def _wants_color(stream: IO[str]) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def _open_output(path: str | None) -> tuple[IO[str], callable]:  # type: ignore[valid-type]
    """stdout, or a temporary file next to ``path`` renamed into place on success."""
    if path is None:
        return sys.stdout, lambda ok: sys.stdout.flush()
    import tempfile

    target = Path(path)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    stream = os.fdopen(fd, "w", encoding="utf-8", errors="memlint.surrogates")

    def finalize(ok: bool) -> None:
        stream.close()
        if ok:
            os.replace(temporary, target)
        else:
            os.unlink(temporary)

    return stream, finalize


class _Progress:
    """``[n/N]`` on stderr, redrawn at most five times a second."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done_count = 0
        self.last = 0.0

    def step(self) -> None:
        self.done_count += 1
        now = time.monotonic()
        if now - self.last > 0.2:
            self.last = now
            sys.stderr.write(f"\rmemlint: {self.done_count}/{self.total} files")
            sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
