"""ResourceRule: the base of MEM201-MEM204. Records the creations of its
resources during the engine's walk and runs the lifetime analysis on each
function (and script block) that holds one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Final

import libcst as cst

from memlint.rules.resource._lifetime.findings import Finding, Reason
from memlint.rules.resource._lifetime.syntax import untracked_names
from memlint.rules.resource._lifetime.walk import FunctionWalk
from memlint.tree.names import NameTracker, Scope
from memlint.rules.resource._ownership import class_forgets
from memlint.analysis.resources import ResourceKind, wraps_borrowed_object
from memlint.options import Option, parse_bool
from memlint.rule import Rule


STRICT: Final = Option(
    "strict", False,
    "also report resources released on every normal path but not in a `finally` or `with`",
    parse_bool,
)


@dataclass(slots=True)
class _Function:
    node: cst.FunctionDef | None  # None: the module
    keys: list[int] = field(default_factory=list)
    class_node: cst.ClassDef | None = None


class ResourceRule(Rule):
    """Base of MEM201-MEM204: records the creations of ``resources`` and runs
    the lifetime analysis on each function (and script block) holding one."""

    resources: ClassVar[Mapping[str, ResourceKind]]
    options = (STRICT,)

    def __init__(self, context: object) -> None:
        super().__init__(context)  # type: ignore[arg-type]
        self._creations: dict[int, tuple[cst.Call, ResourceKind, str]] = {}
        self._functions: list[_Function] = [_Function(None)]
        self._classes: list[tuple[cst.ClassDef, list[tuple[cst.Call, ResourceKind, str, str]]]] = []

    # recording, during the engine's walk
    def visit_Call(self, node: cst.Call) -> None:
        callee = self.context.names.call_name(node)
        kind = self.resources.get(callee) if callee is not None else None
        if kind is not None and not (kind.code == "MEM201" and wraps_borrowed_object(node)):
            self._creations[id(node)] = (node, kind, callee)  # type: ignore[assignment]
            self._functions[-1].keys.append(id(node))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append((node, []))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        node, stores = self._classes.pop()
        for call, kind, callee, attr in stores:
            if class_forgets(node, attr, kind):
                self.emit(Finding(call, kind, callee, Reason.CLASS_FORGETS, attr))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        enclosing = self._classes[-1][0] if self._classes else None
        # Only a method directly in the class body takes ownership on self.
        owner = enclosing if enclosing is not None and any(s is node for s in enclosing.body.body) else None
        self._functions.append(_Function(node, class_node=owner))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        function = self._functions.pop()
        if not function.keys:
            return
        scope = self.context.names.scope_of(original_node)
        body = original_node.body.body if isinstance(original_node.body, cst.IndentedBlock) else [original_node.body]
        self_name = _first_param(original_node) if function.class_node is not None else None
        walk = self.walk(function.keys, body, scope, untracked_names(body), self_name, track_locals=True)  # type: ignore[arg-type]
        if function.class_node is not None and self._classes:
            stores = self._classes[-1][1]
            for call, attr in walk.self_stores:
                _, kind, callee = self._creations[id(call)]
                stores.append((call, kind, callee, attr))

    def leave_Module(self, original_node: cst.Module) -> None:
        keys = self._functions[0].keys
        if not keys:
            return
        scope = self.context.names.scope_of(original_node)
        # Library modules: a module-level resource is a singleton, not a leak;
        # only what is dropped at once is reported. Script blocks are functions.
        captured = untracked_names(original_node.body)
        for statement in original_node.body:
            if isinstance(statement, cst.If) and _is_main_guard(statement.test):
                self.walk(keys, statement.body.body, scope, captured, None, track_locals=True)
            else:
                self.walk(keys, [statement], scope, captured, None, track_locals=False)

    def walk(
        self, keys: list[int], body: Sequence[cst.BaseStatement], scope: Scope | None,
        untracked: frozenset[str], self_name: str | None, track_locals: bool,
    ) -> FunctionWalk:
        names: NameTracker = self.context.names
        creations = {key: self._creations[key] for key in keys}
        walk = FunctionWalk(
            creations, lambda expr: names.qualified_name(expr, scope), untracked, self_name,
            bool(self.option("strict")), track_locals,
        )
        for finding in walk.run(body):
            self.emit(finding)
        return walk

    def emit(self, finding: Finding) -> None:
        self.report(finding.node, describe(finding))


def _first_param(node: cst.FunctionDef) -> str | None:
    params = [*node.params.posonly_params, *node.params.params]
    return params[0].name.value if params else None


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    left, right = test.left, test.comparisons[0].comparator
    values = {
        side.value if isinstance(side, cst.Name) else side.evaluated_value if isinstance(side, cst.SimpleString) else None
        for side in (left, right)
    }
    return values == {"__name__", "__main__"}


def describe(finding: Finding) -> str:
    """The message: what leaks, why it matters, the cure."""
    kind = finding.kind
    what = f"`{_display(finding.callee)}`" + ("" if kind.label in finding.callee else f" {kind.label}")
    never = f"never {kind.verb}"
    reason = finding.reason
    if reason is Reason.DROPPED:
        head = f"{what} is used once and dropped, {never}"
    elif reason is Reason.NEVER:
        head = f"{what} is {never}"
    elif reason is Reason.SKIPPED:
        head = f"{what} is not {kind.verb} on every path (an early `return`, `break`, `continue` or a branch skips it)"
    elif reason is Reason.REBOUND:
        head = f"{what} is re-bound before it is {kind.verb}, so the first one is {never}"
    elif reason is Reason.LOOP:
        head = f"{what} created in a loop is not {kind.verb} before the next iteration"
    elif reason is Reason.NOT_IN_FINALLY:
        head = f"{what} is {kind.verb}, but not in a `finally` or `with`, so an exception skips it"
    elif reason is Reason.WITH_ONLY_COMMITS:
        head = f"{what} used in `with` is {never}: its `with` only commits"
    else:
        head = f"{what} stored on `self.{finding.detail}` is {never} by the class's teardown method"
    return f"{head}: {kind.consequence}; {kind.cure}"


def _display(callee: str) -> str:
    """``open()``, ``sqlite3.connect()``, ``subprocess.Popen`` (classes without parentheses)."""
    callee = callee.removeprefix("builtins.").replace("().", "(...).")
    return callee if callee.rsplit(".", 1)[-1][:1].isupper() else callee + "()"
