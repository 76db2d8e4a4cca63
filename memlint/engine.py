"""The single pass: parse once, walk once with every enabled rule, report.

``lint_source`` is the one entry point shared by the CLI, the flake8 plugin
and the tests. It never raises for bad input: unparsable files become MEM001,
a rule that raises becomes MEM002 for that rule and the others carry on.
"""

from __future__ import annotations

import ast
import functools
import io
import sys
import tokenize
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from memlint.analysis.names import NameTracker
from memlint.diagnostic import Diagnostic, Family
from memlint.registry import INTERNAL_ERROR, SYNTAX_ERROR
from memlint.rule import FileContext, Report, Rule
from memlint.suppression import is_suppressed, skips_file

# libcst's visitor recurses once per tree level (about 4 frames each); the
# default limit of 1,000 fails on ordinary generated code.
_RECURSION_LIMIT = 20_000


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


def decode_source(data: bytes) -> str:
    """Decode as Python does: PEP 263 cookie, BOM, else UTF-8."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def lint_source(source: bytes | str, path: str, settings: LintSettings) -> list[Diagnostic]:
    """Lint one file's content; findings sorted by position."""
    try:
        text = decode_source(source) if isinstance(source, bytes) else source
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return _syntax_error(path, settings, 1, 1, f"cannot decode file: {exc}")
    if skips_file(text):
        return []
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        return _syntax_error(path, settings, line, 1, "source contains a NUL byte")
    rule_classes = [rule for rule in settings.rules if not settings.prefilter or rule.can_fire(text)]
    if settings.prefilter and not rule_classes and (not settings.report_syntax_errors or _compiles(text)):
        # No rule can fire: only a syntax error could be reported, and
        # CPython's own parser (about 15x faster than libcst's) rules it out.
        return []
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return _syntax_error(path, settings, exc.raw_line, exc.raw_column + 1, _first_line(exc.message))
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or 1
        return _syntax_error(path, settings, line, 1, _first_line(str(exc)))
    except RecursionError:
        return _syntax_error(path, settings, 1, 1, "file is nested too deeply to parse")

    names = NameTracker(module)
    rules = [rule(FileContext(path, text, module, names, dict(settings.options))) for rule in rule_classes]
    failures: dict[Rule, BaseException] = {}
    dispatcher = _Dispatcher(names, rules, failures)
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))  # noqa: MEM404
    try:
        module.visit(dispatcher)
        for rule in rules:
            if rule not in failures:
                _guarded(rule, rule.finish, failures)
    except RecursionError:
        return _internal_error(path, settings, "the file is nested too deeply to analyse (recursion limit)")
    finally:
        sys.setrecursionlimit(old_limit)  # noqa: MEM404

    reports = [report for rule in rules if rule not in failures for report in rule.reports]
    diagnostics = _locate(path, module, reports, rules)
    if settings.report_internal_errors:
        for rule, exc in failures.items():
            diagnostics.append(_diagnostic(
                path, 1, 1, INTERNAL_ERROR.code, INTERNAL_ERROR.name, Family.RUN,
                f"internal error in {rule.code} ({rule.name}): {type(exc).__name__}: {_first_line(str(exc))}",
            ))
    if settings.apply_noqa and diagnostics:
        lines = text.splitlines()
        diagnostics = [
            d for d in diagnostics
            if not (0 < d.line <= len(lines) and is_suppressed(d.code, lines[d.line - 1]))
        ]
    diagnostics.sort(key=Diagnostic.sort_key)
    return diagnostics


def _compiles(text: str) -> bool:
    """True when the running CPython parses ``text``. False is not final:
    libcst also parses newer syntax than the running interpreter knows."""
    try:
        compile(text, "<memlint>", "exec", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


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


class _Dispatcher(cst.CSTVisitor):
    """Batched dispatch with the name tracker first down and last up, and
    per-rule isolation: a rule that raises is dropped for this file only.

    The per-node cost is the engine's own cost (a million nodes on the
    standard library): one dict lookup finds the prepared handlers.
    """

    def __init__(self, names: NameTracker, rules: Sequence[Rule], failures: dict[Rule, BaseException]) -> None:
        super().__init__()
        self.names = names
        self.rules = rules
        self.failures = failures
        plan = _plan(tuple(type(rule) for rule in rules))
        self._plan = plan
        self._visit = plan.visit
        self._leave = plan.leave
        self._skip = plan.skip

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

    def on_visit(self, node: cst.CSTNode) -> bool:
        kind = type(node)
        if kind in self._skip:
            return False
        self.names.on_visit(node)
        handlers = self._visit.get(kind)
        if handlers is None:
            handlers = self._visit[kind] = self._plan.handlers("visit_", kind)
        if handlers:
            self._call(handlers, node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        kind = type(original_node)
        if kind in self._skip:
            return
        handlers = self._leave.get(kind)
        if handlers is None:
            handlers = self._leave[kind] = self._plan.handlers("leave_", kind)
        if handlers:
            self._call(handlers, original_node)
        self.names.on_leave(original_node)

    # Attribute-level hooks (``visit_Call_func``) are not dispatched to rules;
    # libcst's defaults format and look up two method names per child field,
    # the largest single cost of a walk.
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass


def _guarded(rule: Rule, call: Callable[[], object], failures: dict[Rule, BaseException]) -> None:
    try:
        call()
    except RecursionError:
        raise  # the walk itself is too deep: reported once for the file
    except Exception as exc:  # noqa: BLE001 - isolation is the point
        failures[rule] = exc


def _locate(path: str, module: cst.Module, reports: list[Report], rules: Sequence[Rule]) -> list[Diagnostic]:
    """Positions are computed only for files that have reports: the
    PositionProvider costs about two parses."""
    if not reports:
        return []
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
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


def _first_line(text: str, limit: int = 160) -> str:
    stripped = text.strip()
    line = stripped.splitlines()[0] if stripped else "unknown error"
    return line if len(line) <= limit else line[: limit - 3] + "..."
