"""ResourceRule: the base of MEM201-MEM204. Records the creations of its
resources during the engine's walk, runs the lifetime analysis on each
function (and script block) that holds one, and renders each finding with
the rule's own message for its reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Final

import libcst as cst

from memlint.analysis.resources import ResourceKind, wraps_borrowed_object
from memlint.options import Option, parse_bool
from memlint.rule import FileContext, Rule
from memlint.rules.resource._lifetime.findings import Finding, Reason
from memlint.rules.resource._lifetime.syntax import untracked_names
from memlint.rules.resource._lifetime.walk import FunctionWalk
from memlint.rules.resource._ownership import class_forgets
from memlint.tree.names import Scope
from memlint.tree.nodes import first_parameter

STRICT: Final = Option(
    "strict", False,
    "also report resources released on every normal path but not in a `finally` or `with`",
    parse_bool,
)


# What users read for each reason the lifetime analysis gives, shared by the
# family's rules (the fields are filled from the creation and its kind, see
# ResourceRule.describe). Reason.NEVER of MEM202 reads, for instance:
#   "`socket.create_connection()` is never closed: the socket stays open until garbage
#   collection; use `with` or close it in a `finally`"
MESSAGES: Final[Mapping[Reason, str]] = {
    Reason.DROPPED: "{what} is used once and dropped, never {verb}: {consequence}; {cure}",
    Reason.NEVER: "{what} is never {verb}: {consequence}; {cure}",
    Reason.SKIPPED: (
            "{what} is not {verb} on every path (an early `return`, `break`, `continue` or a branch skips it): "
            "{consequence}; {cure}"
        ),
    Reason.REBOUND: "{what} is re-bound before it is {verb}, so the first one is never {verb}: {consequence}; {cure}",
    Reason.LOOP: "{what} created in a loop is not {verb} before the next iteration: {consequence}; {cure}",
    Reason.NOT_IN_FINALLY: (
            "{what} is {verb}, but not in a `finally` or `with`, so an exception skips it: {consequence}; {cure}"
        ),
    Reason.CLASS_FORGETS: (
            "{what} stored on `self.{attr}` is never {verb} by the class's teardown method: {consequence}; {cure}"
        ),
}


class ResourceRule(Rule):
    """Base of MEM201-MEM204: records the creations of ``resources`` and runs
    the lifetime analysis on each function (and script block) holding one.

    A rule declares the message of every reason it can report in
    ``messages``; the templates are filled with the finding's creation and
    its kind (``memlint.analysis.resources.ResourceKind``):

    - ``{what}``: the call as written, with its kind when the name does not
      say it: `` `open()` ``, `` `socket.create_connection()` connection ``;
    - ``{verb}``: how the kind is released ("closed", "waited", "shut down");
    - ``{consequence}``, ``{cure}``: what the leak costs and how to fix it;
    - ``{attr}``: the attribute of ``self`` (``Reason.CLASS_FORGETS``).
    """

    resources: ClassVar[Mapping[str, ResourceKind]]
    messages: ClassVar[Mapping[Reason, str]]
    options = (STRICT,)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Every creation of this rule's resources, keyed by id(call): (call, kind, callee).
        self._creations: dict[int, tuple[cst.Call, ResourceKind, str]] = {}
        # The creations of each function, in walk order (None: the module's own).
        self._held_by: dict[cst.FunctionDef | None, list[int]] = {}
        # Per class: what its methods store on self, (creation, attribute),
        # judged when the class ends and all its teardown methods are known.
        self._self_stores: dict[cst.ClassDef, list[tuple[cst.Call, str]]] = {}

    # -- recording, during the engine's walk ------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        callee = self.context.names.call_name(node)
        kind = self.resources.get(callee) if callee is not None else None
        if kind is not None and not (kind.code == "MEM201" and wraps_borrowed_object(node)):
            self._creations[id(node)] = (node, kind, callee)  # type: ignore[assignment]
            self._held_by.setdefault(self.context.where.function, []).append(id(node))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        keys = self._held_by.pop(original_node, None)
        if not keys:
            return
        cls = self.context.where.cls
        # Only a method directly in the class body takes ownership on self.
        method_of = cls if cls is not None and any(s is original_node for s in cls.body.body) else None
        scope = self.context.names.scope_of(original_node)
        body = original_node.body.body if isinstance(original_node.body, cst.IndentedBlock) else [original_node.body]
        self_name = first_parameter(original_node) if method_of is not None else None
        walk = self._walk(keys, body, scope, untracked_names(body), self_name, track_locals=True)  # type: ignore[arg-type]
        if method_of is not None:
            self._self_stores.setdefault(method_of, []).extend(walk.self_stores)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        for call, attr in self._self_stores.pop(original_node, ()):
            _, kind, callee = self._creations[id(call)]
            if class_forgets(original_node, attr, kind):
                self._emit(Finding(call, kind, callee, Reason.CLASS_FORGETS, attr))

    def leave_Module(self, original_node: cst.Module) -> None:
        keys = self._held_by.get(None)
        if not keys:
            return
        scope = self.context.names.scope_of(original_node)
        # Library modules: a module-level resource is a singleton, not a leak;
        # only what is dropped at once is reported. Script blocks are functions.
        captured = untracked_names(original_node.body)
        for statement in original_node.body:
            if isinstance(statement, cst.If) and _is_main_guard(statement.test):
                self._walk(keys, statement.body.body, scope, captured, None, track_locals=True)
            else:
                self._walk(keys, [statement], scope, captured, None, track_locals=False)

    # -- analysis and messages -------------------------------------------
    def _walk(
        self, keys: list[int], body: Sequence[cst.BaseStatement], scope: Scope | None,
        untracked: frozenset[str], self_name: str | None, track_locals: bool,
    ) -> FunctionWalk:
        names = self.context.names
        creations = {key: self._creations[key] for key in keys}
        walk = FunctionWalk(
            creations, lambda expr: names.qualified_name(expr, scope), untracked, self_name,
            bool(self.option("strict")), track_locals,
        )
        for finding in walk.run(body):
            self._emit(finding)
        return walk

    def _emit(self, finding: Finding) -> None:
        self.report(finding.node, self.describe(finding))

    @classmethod
    def describe(cls, finding: Finding) -> str:
        """The rule's message for ``finding``: what leaks, why it matters, the cure."""
        kind = finding.kind
        return cls.messages[finding.reason].format(
            what=_display(finding.callee, kind), verb=kind.verb, consequence=kind.consequence, cure=kind.cure,
            attr=finding.detail,
        )


def _display(callee: str, kind: ResourceKind) -> str:
    """`` `open()` ``, `` `sqlite3.connect()` sqlite3 connection ``, `` `subprocess.Popen` ``
    (classes without parentheses; the kind named unless the callee says it)."""
    shown = callee.removeprefix("builtins.").replace("().", "(...).")
    call = shown if shown.rsplit(".", 1)[-1][:1].isupper() else shown + "()"
    return f"`{call}`" + ("" if kind.label in callee else f" {kind.label}")


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    left, right = test.left, test.comparisons[0].comparator
    values = {
        side.value if isinstance(side, cst.Name) else side.evaluated_value if isinstance(side, cst.SimpleString) else None
        for side in (left, right)
    }
    return values == {"__name__", "__main__"}
