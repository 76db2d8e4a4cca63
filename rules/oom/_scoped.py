"""Per-scope bindings, name uses and parents of one function (or module), computed on demand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Union

import libcst as cst

from memlint.rule import FileContext, Rule
from memlint.tree.nodes import parameters, target_names
from memlint.tree.walk import visit

Scope = Union[cst.FunctionDef, cst.Module]
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
# Methods that add an entry to the container they are called on (not
# `insert`/`update`: `db.insert(row)` and `progress.update(n)` keep nothing).
_GROWING_METHODS = frozenset({"append", "appendleft", "add", "extend", "setdefault"})
# Builtins that collect every item of the iterable they are given.
_COLLECTORS = frozenset({"list", "tuple", "set", "frozenset", "dict", "sorted"})


def _filters(loop: cst.CompFor) -> bool:
    """A comprehension with an ``if`` (at any of its ``for`` levels) keeps a subset."""
    current: cst.CompFor | None = loop
    while current is not None:
        if current.ifs:
            return True
        current = current.inner_for_in
    return False


def _grows_a_container(statement: cst.BaseSmallStatement) -> bool:
    """``x.append(...)``-like calls and stores into ``x[key]``."""
    if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
        func = statement.value.func
        return isinstance(func, cst.Attribute) and func.attr.value in _GROWING_METHODS
    if isinstance(statement, cst.Assign):
        return any(isinstance(target.target, cst.Subscript) for target in statement.targets)
    return isinstance(statement, cst.AnnAssign) and isinstance(statement.target, cst.Subscript)


@dataclass(frozen=True, slots=True)
class Binding:
    """One binding of a local name.

    ``kind`` is ``assign`` (``value`` is the assigned expression), ``with``
    (``value`` is the context manager expression, ``node`` the With),
    ``for`` (``value`` is the iterable), ``param`` (``value`` is the
    annotation or None) or ``other`` (unpacking, import, augmented
    assignment, ``global``...: nothing is known about the value).
    """

    kind: str
    value: cst.BaseExpression | None
    node: cst.CSTNode


class ScopeBindings:
    """Who binds and who uses each name of one scope, and every node's parent.

    Built by one walk of the scope (the engine computes no parent metadata).
    Nested functions, classes and lambdas are walked for their *uses* of the
    scope's names (a closure may read them) but their own bindings are not the
    scope's and are ignored.
    """

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self.bindings: dict[str, list[Binding]] = {}
        self.uses: dict[str, list[cst.Name]] = {}
        walker = _Walker(self)
        if isinstance(scope, cst.FunctionDef):
            for param in parameters(scope.params):
                annotation = param.annotation.annotation if param.annotation is not None else None
                self._bind(param.name.value, Binding("param", annotation, param))
            visit(scope.body, walker)
            self.parents[scope.body] = scope
        else:
            visit(scope, walker)

    def _bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    # -- queries --------------------------------------------------------
    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self.parents.get(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    def is_within(self, node: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
        return any(a is ancestor for a in self.ancestors(node))

    def opening_with(self, expr: cst.BaseExpression) -> cst.With | None:
        """The innermost ``with`` around ``expr`` whose ``as`` target is the
        name ``expr`` (``with open(p) as f: ... f ...``), else None."""
        if not isinstance(expr, cst.Name):
            return None
        for ancestor in self.ancestors(expr):
            if isinstance(ancestor, cst.With) and any(
                item.asname is not None and isinstance(item.asname.name, cst.Name) and item.asname.name.value == expr.value
                for item in ancestor.items
            ):
                return ancestor
        return None

    def in_loop_body(self, node: cst.CSTNode, loop: cst.CSTNode) -> bool:
        """True when ``node`` runs on every iteration of ``loop`` (a For or a
        comprehension's CompFor): inside it, but not in its iterable."""
        if isinstance(loop, cst.For):
            return self.is_within(node, loop.body)
        comprehension = self.parent(loop)
        if comprehension is None or not self.is_within(node, comprehension):
            return False
        iterable = loop.iter if isinstance(loop, cst.CompFor) else None
        return iterable is None or not (node is iterable or self.is_within(node, iterable))

    def single_binding(self, name: str) -> Binding | None:
        """The binding of ``name`` when the scope binds it exactly once."""
        found = self.bindings.get(name)
        return found[0] if found is not None and len(found) == 1 else None

    def iteration_loop(self, expr: cst.BaseExpression) -> cst.CSTNode | None:
        """The ``for``/comprehension that iterates ``expr`` directly (or
        through ``enumerate(expr)``), else None."""
        parent = self.parent(expr)
        if isinstance(parent, cst.Arg) and parent.keyword is None:
            call = self.parent(parent)
            if (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Name)
                and call.func.value == "enumerate"
                and call.args[0] is parent
            ):
                expr, parent = call, self.parent(call)
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is expr:
            return parent
        return None

    def only_iterated(self, expr: cst.BaseExpression) -> list[cst.CSTNode]:
        """The loops that consume ``expr`` when iterating is all that is done
        with it: directly (``for x in expr``), or through a name bound once
        to it whose every use is such a loop. Empty when the value is used as
        a whole anywhere (returned, indexed, ``len``-ed, stored...)."""
        loop = self.iteration_loop(expr)
        if loop is not None:
            return [loop]
        parent = self.parent(expr)
        if not (isinstance(parent, cst.Assign) and len(parent.targets) == 1):
            return []
        target = parent.targets[0].target
        if not isinstance(target, cst.Name) or self.single_binding(target.value) is None:
            return []
        loops = []
        for use in self.uses.get(target.value, ()):
            loop = self.iteration_loop(use)
            if loop is None:
                return []
            loops.append(loop)
        return loops


    def keeps_every_item(self, loop: cst.CSTNode) -> bool:
        """Whether the loop keeps something for every item it consumes, so
        that its result is as large as its input: a list, set or dict
        comprehension with no ``if``, a generator collected whole
        (``list(...)``, ``sorted(...)``, ``"".join(...)``), or a ``for`` whose
        body grows a container on every pass (``out.append(...)``,
        ``by_id[row.id] = row``). Reading the whole input first then costs no
        more memory than the result does: it is not an OOM risk of its own."""
        if isinstance(loop, cst.CompFor):
            comprehension = self.parent(loop)
            while isinstance(comprehension, cst.CompFor):
                comprehension = self.parent(comprehension)
            if _filters(loop):
                return False
            if isinstance(comprehension, (cst.ListComp, cst.SetComp, cst.DictComp)):
                return True
            return isinstance(comprehension, cst.GeneratorExp) and self._collected(comprehension)
        if isinstance(loop, cst.For) and isinstance(loop.body, cst.IndentedBlock):
            return any(
                _grows_a_container(small)
                for line in loop.body.body if isinstance(line, cst.SimpleStatementLine)
                for small in line.body
            )
        return False

    def _collected(self, generator: cst.GeneratorExp) -> bool:
        arg = self.parent(generator)
        call = self.parent(arg) if isinstance(arg, cst.Arg) else None
        if not isinstance(call, cst.Call):
            return False
        func = call.func
        return (isinstance(func, cst.Name) and func.value in _COLLECTORS) or (
            isinstance(func, cst.Attribute) and func.attr.value == "join"
        )

    def runs_repeatedly(self, node: cst.CSTNode, since: cst.CSTNode) -> bool:
        """Whether ``node`` runs more than once per run of ``since``: it is in
        the body of a loop (``for``/``while``/comprehension) that does not
        contain ``since`` too. The iterable of a ``for`` runs once."""
        child = node
        for ancestor in self.ancestors(node):
            if ancestor is since or self.is_within(since, ancestor):
                return False
            if isinstance(ancestor, cst.While) or (isinstance(ancestor, (cst.For, cst.CompFor)) and child is not ancestor.iter):
                return True
            if isinstance(ancestor, _COMPREHENSIONS) and child is not ancestor.for_in:
                return True  # the element, run once per item
            child = ancestor
        return False


class _Walker(cst.CSTVisitor):
    """Records parents, bindings (outside nested scopes) and name uses."""

    def __init__(self, index: ScopeBindings) -> None:
        super().__init__()
        self.index = index
        self.stack: list[cst.CSTNode] = []
        self.nested = 0  # depth inside nested functions / classes / lambdas
        self.targets: set[int] = set()  # ids of Name nodes that are binding targets

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.stack:
            self.index.parents[node] = self.stack[-1]
        self.stack.append(node)
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            if not self.nested:
                if not isinstance(node, cst.Lambda):
                    self._other(node.name.value, node)
                    self.targets.add(id(node.name))
            self.nested += 1
        elif not self.nested:
            self._record_binding(node)
        if isinstance(node, cst.Name):
            self._record_use(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()
        if isinstance(original_node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            self.nested -= 1

    def _other(self, name: str, node: cst.CSTNode) -> None:
        self.index._bind(name, Binding("other", None, node))

    def _target(self, target: cst.BaseExpression, kind: str, value: cst.BaseExpression | None, node: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.targets.add(id(target))
            self.index._bind(target.value, Binding(kind, value, node))
            return
        for name in target_names(target):
            self._other(name, node)
        self._mark_targets(target)

    def _mark_targets(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.targets.add(id(target))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._mark_targets(element.value)
        elif isinstance(target, cst.StarredElement):
            self._mark_targets(target.value)

    def _record_binding(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Assign):
            for target in node.targets:
                self._target(target.target, "assign", node.value, node)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self._target(node.target, "assign", node.value, node)
        elif isinstance(node, cst.NamedExpr):
            self._target(node.target, "assign", node.value, node)
        elif isinstance(node, cst.AugAssign):
            for name in target_names(node.target):
                self._other(name, node)
        elif isinstance(node, (cst.For, cst.CompFor)):
            self._target(node.target, "for", node.iter, node)
        elif isinstance(node, cst.With):
            for item in node.items:
                if item.asname is not None:
                    self._target(item.asname.name, "with", item.item, node)
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            for item in node.names:
                self._other(item.name.value, node)
        elif isinstance(node, (cst.Import, cst.ImportFrom)) and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                while isinstance(bound, cst.Attribute):
                    bound = bound.value
                if isinstance(bound, cst.Name):
                    self._other(bound.value, node)
        elif isinstance(node, cst.ExceptHandler) and node.name is not None:
            for name in target_names(node.name.name):
                self._other(name, node)
        elif isinstance(node, cst.Del):
            for name in target_names(node.target):
                self._other(name, node)

    def _record_use(self, node: cst.Name) -> None:
        if id(node) in self.targets:
            return
        parent = self.stack[-2] if len(self.stack) > 1 else None
        # Names that are not variable references.
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            return
        if isinstance(parent, cst.Arg) and parent.keyword is node:
            return
        if isinstance(parent, (cst.Param, cst.ImportAlias, cst.AsName, cst.FunctionDef, cst.ClassDef)):
            return
        if isinstance(parent, (cst.Global, cst.Nonlocal, cst.NameItem)):
            return
        self.index.uses.setdefault(node.value, []).append(node)


class ScopedCallRule(Rule):
    """A rule that collects candidate calls per function (or the module)
    during the walk and checks them when that scope is left, so that the
    costly per-scope analysis (a ScopeBindings) runs only where a candidate is.

    Subclasses define ``is_candidate(call)`` and ``check(scope, calls)``.
    """

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Candidates by the innermost enclosing def (the module for the
        # others), checked when that scope is left.
        self._calls: dict[cst.CSTNode, list[cst.CSTNode]] = {}

    def is_candidate(self, node: cst.Call) -> bool:
        raise NotImplementedError

    def check(self, scope: Scope, calls: list[cst.CSTNode]) -> None:
        raise NotImplementedError

    def visit_Call(self, node: cst.Call) -> None:
        if self.is_candidate(node):
            owner = self.context.where.function or self.context.module
            self._calls.setdefault(owner, []).append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._leave_scope(original_node)

    def leave_Module(self, original_node: cst.Module) -> None:
        self._leave_scope(original_node)

    def _leave_scope(self, scope: Scope) -> None:
        calls = self._calls.pop(scope, None)
        if calls:
            self.check(scope, calls)
