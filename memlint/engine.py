"""The single pass: parse once, walk once with every enabled rule, report.

``lint_source`` is the one entry point shared by the CLI, the flake8 plugin
and the tests. It never raises for bad input: unparsable files become MEM001,
a rule that raises becomes MEM002 for that rule and the others carry on.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import sys
import threading
import tokenize
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import libcst as cst

from memlint.tree.names import NameTracker
from memlint.diagnostic import Diagnostic, Family
from memlint.positions import positions as locate_nodes
from memlint.positions import statement_lines
from memlint.diagnostic import INTERNAL_ERROR, SYNTAX_ERROR
from memlint.rule import FileContext, Report, Rule
from memlint.suppression import is_suppressed, skips_file
from memlint.tree.walk import child_fields
from memlint.tree.where import Where

_T = TypeVar("_T")

# libcst's parser, visitor and position provider recurse several frames per
# tree level. The limit is raised only while a file is analysed, on a thread
# whose stack is large enough for it (see ``_on_deep_stack``); deeper files
# become MEM002 rather than a crash. Measured on 3.11: the deepest
# expressions CPython accepts (~2,950 nested lambdas, unary operators or
# conditional expressions) need under 20,000 frames and 64 MB of C stack.
_RECURSION_LIMIT = 60_000
# Virtual size, a wide margin: only the pages the walk touches are committed.
_STACK_SIZE = 512 * 1024 * 1024
# Messages of CPython's parser when a file exceeds its fixed nesting limits.
# Such a file cannot run on CPython, and libcst's parser can take minutes or
# overflow its stack on it, so it is reported without being handed to libcst.
_CPYTHON_LIMITS = ("too many nested parentheses", "too many levels of indentation", "too complex", "stack overflow")
_CPYTHON_DEFAULT_LIMIT = 1000
_NEWLINE = re.compile(r"\r\n|\r|\n")
ANALYSIS_THREAD: Final = "memlint-analysis"
_ABSENT: Final = cst.MaybeSentinel.DEFAULT


@dataclass(frozen=True, slots=True)
class LintSettings:
    """What to run on one file: the rule classes and their option values."""

    rules: tuple[type[Rule], ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    report_syntax_errors: bool = True
    report_internal_errors: bool = True
    apply_noqa: bool = True
    # The textual screens (rule triggers, then CPython's parser for files no
    # rule can fire on). Off only in the test that proves them sound.
    prefilter: bool = True


@dataclass(frozen=True, slots=True)
class _Rejection:
    """Why CPython's own parser refused the file."""

    line: int
    column: int
    message: str
    too_deep: bool  # beyond CPython's fixed limits, not a grammar error


def decode_source(data: bytes) -> str:
    """Decode as Python does: PEP 263 cookie, BOM, else UTF-8."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def lint_source(source: bytes | str, path: str, settings: LintSettings) -> list[Diagnostic]:
    """Lint one file's content; findings sorted by position.

    Never raises for any input: undecodable or unparsable files become
    MEM001, anything that goes wrong inside memlint becomes MEM002.
    """
    try:
        text = decode_source(source) if isinstance(source, bytes) else source
    except (SyntaxError, UnicodeError, LookupError, ValueError) as exc:
        # UnicodeError: codecs such as `undefined` raise it directly.
        return _syntax_error(path, settings, 1, 1, f"cannot decode file: {_first_line(str(exc))}")
    if skips_file(text):
        return []
    if "\0" in text:
        line = _line_of(text, text.index("\0"))
        return _syntax_error(path, settings, line, 1, "source contains a NUL byte")
    rule_classes = [rule for rule in settings.rules if not settings.prefilter or rule.can_fire(text)]
    try:
        diagnostics = _on_deep_stack(_analyse, text, path, settings, rule_classes)
    except (KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        return _internal_error(path, settings, f"out of memory analysing this file ({len(text):,} characters); "
                                               "lower max-file-size to skip files this large")
    except BaseException as exc:  # noqa: BLE001 - last line of defence: one file must never stop the run
        return _internal_error(path, settings, f"{type(exc).__name__}: {_first_line(str(exc))}")
    if settings.apply_noqa and diagnostics:
        lines = _NEWLINE.split(text)
        diagnostics = [
            d for d in diagnostics
            if not (0 < d.line <= len(lines) and is_suppressed(d.code, lines[d.line - 1]))
        ]
    diagnostics.sort(key=Diagnostic.sort_key)
    return diagnostics


def _analyse(text: str, path: str, settings: LintSettings, rule_classes: list[type[Rule]]) -> list[Diagnostic]:
    """Screen, parse, walk, locate: everything that recurses with the tree's
    depth (run on the analysis thread)."""
    rejection, first_lines = _cpython_screen(text)
    if rejection is not None and rejection.too_deep:
        return _syntax_error(path, settings, rejection.line, rejection.column,
                             f"beyond CPython's parser limits: {rejection.message}")
    if not rule_classes and (not settings.report_syntax_errors or rejection is None):
        # No rule can fire and CPython's parser (about 10x faster than
        # libcst's) found the file valid: there is nothing to report.
        return []
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))  # noqa: MEM404
    try:
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as exc:
            return _parse_failure(path, settings, exc.raw_line, exc.raw_column + 1, _first_line(exc.message), rejection)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None) or 1
            return _parse_failure(path, settings, line, 1, _first_line(str(exc)), rejection)
        except RecursionError:
            return _syntax_error(path, settings, 1, 1, "file is nested too deeply to parse")
        try:
            return _walk(module, text, path, settings, rule_classes, first_lines)
        except RecursionError:
            return _internal_error(path, settings, "the file is nested too deeply to analyse (recursion limit)")
    finally:
        sys.setrecursionlimit(old_limit)  # noqa: MEM404


def _parse_failure(path: str, settings: LintSettings, line: int, column: int, message: str,
                   rejection: _Rejection | None) -> list[Diagnostic]:
    if rejection is None:
        # CPython accepts the file: the fault is libcst's (1.9 rejects e.g.
        # a parenthesised annotated target `(x): int = 1`).
        return _syntax_error(path, settings, line, column,
                             f"libcst cannot parse this file, which CPython accepts: {message}")
    # CPython's message and position are the ones users know from
    # `python -m py_compile`.
    return _syntax_error(path, settings, rejection.line, rejection.column, rejection.message)


def _walk(module: cst.Module, text: str, path: str, settings: LintSettings,
          rule_classes: list[type[Rule]], first_lines: list[int] | None) -> list[Diagnostic]:
    names = NameTracker(module)
    where = Where(names)
    rules = [rule(FileContext(path, text, module, names, where, dict(settings.options))) for rule in rule_classes]
    failures: dict[Rule, BaseException] = {}
    _Dispatcher(names, where, rules, failures).walk(module)
    for rule in rules:
        if rule not in failures:
            _guarded(rule, rule.finish, failures)
    reports = [report for rule in rules if rule not in failures for report in rule.reports]
    diagnostics = _locate(path, module, reports, rules, first_lines)
    if settings.report_internal_errors:
        for rule, exc in failures.items():
            diagnostics.append(_diagnostic(
                path, 1, 1, INTERNAL_ERROR.code, INTERNAL_ERROR.name, Family.RUN,
                f"internal error in {rule.code} ({rule.name}): {type(exc).__name__}: {_first_line(str(exc))}",
            ))
    return diagnostics


def _on_deep_stack(function: Callable[..., _T], *args: Any) -> _T:
    """Run ``function`` on a fresh thread with a large C stack.

    The main thread's stack (8 MB) overflows, killing the process with
    SIGSEGV, long before the raised recursion limit is reached on deeply
    nested files; a RecursionError is recoverable, a segfault is not.
    """
    outcome: list[tuple[bool, Any]] = []

    def target() -> None:
        try:
            outcome.append((True, function(*args)))
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            outcome.append((False, exc))

    try:
        old_size = threading.stack_size(_STACK_SIZE)
    except (ValueError, RuntimeError):  # pragma: no cover - platform without it
        return function(*args)
    try:
        thread = threading.Thread(target=target, name=ANALYSIS_THREAD, daemon=True)
        thread.start()
    except RuntimeError:  # pragma: no cover - cannot reserve the stack
        return function(*args)
    finally:
        threading.stack_size(old_size)
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def _cpython_screen(text: str) -> tuple[_Rejection | None, list[int] | None]:
    """Why the running CPython refuses ``text`` (None when it parses it; a
    grammar error is not final: libcst also parses syntax newer than the
    running interpreter), and when it parses, the first line of each
    top-level statement (for ``positions``)."""
    # CPython's nesting limit scales with the recursion limit and the current
    # depth: both are fixed here (a fresh thread, the default limit) so the
    # verdict is the same in every process and matches `python -m py_compile`.
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_CPYTHON_DEFAULT_LIMIT)  # noqa: MEM404
    try:
        with warnings.catch_warnings():
            # SyntaxWarnings about the checked code (`x is 1`) are not ours to print.
            warnings.simplefilter("ignore")
            tree = compile(text, "<memlint>", "exec", ast.PyCF_ONLY_AST)
    except SyntaxError as exc:
        message = _first_line(exc.msg or str(exc))
        too_deep = any(marker in message for marker in _CPYTHON_LIMITS)
        return _Rejection(exc.lineno or 1, exc.offset or 1, message, too_deep), None
    except (RecursionError, MemoryError) as exc:
        # 3.11 raises these for expressions nested thousands deep.
        return _Rejection(1, 1, f"{type(exc).__name__}: {_first_line(str(exc))}", True), None
    except ValueError as exc:  # pragma: no cover - NUL bytes are caught earlier
        return _Rejection(1, 1, _first_line(str(exc)), False), None
    finally:
        sys.setrecursionlimit(old_limit)  # noqa: MEM404
    return None, statement_lines(tree)


# Node types that only ever hold whitespace, comments and punctuation: a
# third of all nodes. Their subtrees are skipped unless some rule visits one
# of these types (libcst rebuilds every node it descends into, so a skipped
# subtree saves both the walk and the reconstruction).
_TRIVIA: Final = frozenset(
    kind for kind in vars(cst).values()
    if isinstance(kind, type) and issubclass(kind, cst.CSTNode)
    and kind.__module__.rsplit(".", 1)[-1] in ("op", "whitespace")
)


Handlers = tuple[tuple[int, Callable[[Rule, Any], Any]], ...]


class _Plan:
    """Which rule handles which node type, worked out once per set of rule
    classes (not per file): (rule index, unbound function) per type."""

    def __init__(self, rule_classes: tuple[type[Rule], ...]) -> None:
        self.rule_classes = rule_classes
        self.visit: dict[type, Handlers] = {}
        self.leave: dict[type, Handlers] = {}
        # Trivia nodes nest (a Comment inside a TrailingWhitespace inside a
        # Comma): if any rule visits any of them, nothing is skipped.
        wanted = any(self.handlers(prefix, kind) for kind in _TRIVIA for prefix in ("visit_", "leave_"))
        self.skip: frozenset[type] = frozenset() if wanted else _TRIVIA

    def handlers(self, prefix: str, kind: type) -> Handlers:
        """The rules' own ``visit_X``/``leave_X``; libcst's empty stubs (every
        visitor inherits one for every node type) are left out, or each rule
        would cost a Python call on every node."""
        attr = prefix + kind.__name__
        stub = getattr(Rule, attr, None)
        found = []
        for index, rule in enumerate(self.rule_classes):
            function = getattr(rule, attr, None)
            if function is not None and function is not stub:
                found.append((index, function))
        return tuple(found)


@functools.lru_cache(maxsize=64)
def _plan(rule_classes: tuple[type[Rule], ...]) -> _Plan:
    return _Plan(rule_classes)


class _Dispatcher:
    """Batched dispatch with the name tracker first down and last up, and
    per-rule isolation: a rule that raises is dropped for this file only.

    The walk is memlint's own (``traversal``), in libcst's order: libcst's
    ``node.visit`` rebuilds every node it passes and cost as much as the
    parse. The per-node cost is then the engine's own cost (a million nodes
    on the standard library): one dict lookup finds the prepared handlers.
    """

    def __init__(self, names: NameTracker, where: Where, rules: Sequence[Rule],
                 failures: dict[Rule, BaseException]) -> None:
        self.names = names
        self.where = where
        self.rules = rules
        self.failures = failures
        plan = _plan(tuple(type(rule) for rule in rules))
        self._plan = plan
        self._visit = plan.visit
        self._leave = plan.leave
        self._skip = plan.skip

    def walk(self, node: cst.CSTNode) -> None:
        """Visit ``node`` and its subtree: names and rules down, rules and
        names up; trivia subtrees are skipped when no rule wants them."""
        kind = type(node)
        if kind in self._skip:
            return
        self.where.enter(node)
        self.names.on_visit(node)
        handlers = self._visit.get(kind)
        if handlers is None:
            handlers = self._visit[kind] = self._plan.handlers("visit_", kind)
        if handlers:
            self._call(handlers, node)
        fields = child_fields(kind)
        if fields is None:
            for child in node.children:
                self.walk(child)
        else:
            for name in fields:
                value = getattr(node, name)
                # Not isinstance(value, CSTNode): an ABC check, the slowest
                # step of the walk. A field holds a node, a sequence of
                # nodes, None or MaybeSentinel.DEFAULT.
                if isinstance(value, (tuple, list)):
                    for child in value:
                        self.walk(child)
                elif value is not None and value is not _ABSENT:
                    self.walk(value)
        handlers = self._leave.get(kind)
        if handlers is None:
            handlers = self._leave[kind] = self._plan.handlers("leave_", kind)
        if handlers:
            self._call(handlers, node)
        self.names.on_leave(node)
        self.where.leave()

    def _call(self, handlers: Handlers, node: cst.CSTNode) -> None:
        for index, function in handlers:
            rule = self.rules[index]
            if rule in self.failures:
                continue
            try:
                function(rule, node)
            except RecursionError:
                raise
            except Exception as exc:  # noqa: BLE001 - one rule's bug must not stop the others
                self.failures[rule] = exc


def _guarded(rule: Rule, call: Callable[[], object], failures: dict[Rule, BaseException]) -> None:
    try:
        call()
    except RecursionError:
        raise  # the walk itself is too deep: reported once for the file
    except Exception as exc:  # noqa: BLE001 - isolation is the point
        failures[rule] = exc


def _locate(path: str, module: cst.Module, reports: list[Report], rules: Sequence[Rule],
            first_lines: list[int] | None) -> list[Diagnostic]:
    """Positions are computed only for files that have reports, and only
    for the statements that hold them (``positions``)."""
    if not reports:
        return []
    positions = locate_nodes(module, [report.node for report in reports], first_lines)
    by_code = {rule.code: rule for rule in rules}
    out: list[Diagnostic] = []
    seen: set[tuple[int, int, str]] = set()
    for report in reports:
        rule = by_code[report.code]
        where = positions.get(report.node)
        if where is None:
            line, column, end_line, end_column = 1, 1, 1, 1
        else:
            line, column = where.start.line, where.start.column + 1
            end_line, end_column = where.end.line, where.end.column + 1
        key = (line, column, report.code)
        if key in seen:
            continue
        seen.add(key)
        out.append(Diagnostic(path, line, column, report.code, report.message, end_line, end_column, rule.name, rule.family))
    return out


def internal_error(path: str, message: str) -> Diagnostic:
    """A MEM002 for a failure outside the engine (a worker that died)."""
    return _diagnostic(path, 1, 1, INTERNAL_ERROR.code, INTERNAL_ERROR.name, Family.RUN, message)


def _diagnostic(path: str, line: int, column: int, code: str, name: str, family: Family, message: str) -> Diagnostic:
    return Diagnostic(path, line, column, code, message, line, column, name, family)


def _syntax_error(path: str, settings: LintSettings, line: int, column: int, message: str) -> list[Diagnostic]:
    if not settings.report_syntax_errors:
        return []
    return [_diagnostic(path, max(line, 1), max(column, 1), SYNTAX_ERROR.code, SYNTAX_ERROR.name, Family.RUN,
                        f"syntax error: {message}")]


def _internal_error(path: str, settings: LintSettings, message: str) -> list[Diagnostic]:
    if not settings.report_internal_errors:
        return []
    return [_diagnostic(path, 1, 1, INTERNAL_ERROR.code, INTERNAL_ERROR.name, Family.RUN, f"internal error: {message}")]


def _line_of(text: str, offset: int) -> int:
    """1-based line of ``offset``, counting the line breaks Python does."""
    return len(_NEWLINE.findall(text, 0, offset)) + 1


def _first_line(text: str, limit: int = 160) -> str:
    stripped = text.strip()
    line = stripped.splitlines()[0] if stripped else "unknown error"
    return line if len(line) <= limit else line[: limit - 3] + "..."
