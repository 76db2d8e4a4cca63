"""Callable resolution within one module: which ``def`` does ``target=...`` run?

Used by the lifecycle rules (MEM301 thread targets, MEM302 timer callbacks).
Everything here is lexical and module-local: a name that comes from an
import, a parameter or an attribute of another object resolves to None, and
callers treat None as "unknown, do not report".
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from memlint.tree.names import NameTracker, Scope
from memlint.tree.nodes import first_parameter
from memlint.tree.walk import iter_nodes

Function = cst.FunctionDef


@dataclass(slots=True)
class ModuleIndex:
    """Module-level functions and classes by name (no deep walk: top level only)."""

    functions: dict[str, Function] = field(default_factory=dict)
    classes: dict[str, cst.ClassDef] = field(default_factory=dict)

    @classmethod
    def build(cls, module: cst.Module) -> ModuleIndex:
        index = cls()
        for statement in _flat_statements(module.body):
            if isinstance(statement, cst.FunctionDef):
                index.functions.setdefault(statement.name.value, statement)
            elif isinstance(statement, cst.ClassDef):
                index.classes.setdefault(statement.name.value, statement)
        return index

    def local_bases(self, classdef: cst.ClassDef) -> Iterator[cst.ClassDef]:
        """``classdef`` and its base classes defined in this module, in MRO-ish order."""
        seen: set[int] = set()
        todo = [classdef]
        while todo:
            current = todo.pop(0)
            if id(current) in seen:
                continue
            seen.add(id(current))
            yield current
            for base in current.bases:
                if isinstance(base.value, cst.Name) and base.value.value in self.classes:
                    todo.append(self.classes[base.value.value])

    def method(self, classdef: cst.ClassDef, name: str) -> Function | None:
        """Method ``name`` of ``classdef`` or of a base class defined in this module."""
        for klass in self.local_bases(classdef):
            found = class_methods(klass).get(name)
            if found is not None:
                return found
        return None

    def subclasses_base(self, classdef: cst.ClassDef, names: NameTracker, qualified: frozenset[str]) -> bool:
        """Whether ``classdef`` derives (through local classes) from one of ``qualified``."""
        scope = names.module_scope
        for klass in self.local_bases(classdef):
            for base in klass.bases:
                if names.qualified_name(base.value, scope) in qualified:
                    return True
        return False


def _flat_statements(body: Sequence[cst.BaseStatement | cst.BaseSmallStatement]) -> Iterator[cst.CSTNode]:
    """Statements of a block, looking into ``if``/``try`` (conditional definitions)."""
    for statement in body:
        yield statement
        if isinstance(statement, cst.If):
            yield from _flat_statements(statement.body.body)
            if statement.orelse is not None and isinstance(statement.orelse.body, cst.IndentedBlock):
                yield from _flat_statements(statement.orelse.body.body)
        elif isinstance(statement, cst.Try):
            yield from _flat_statements(statement.body.body)
            for handler in statement.handlers:
                yield from _flat_statements(handler.body.body)


def class_methods(classdef: cst.ClassDef) -> dict[str, Function]:
    """Functions defined directly in a class body."""
    body = classdef.body.body if isinstance(classdef.body, cst.IndentedBlock) else ()
    return {s.name.value: s for s in _flat_statements(body) if isinstance(s, cst.FunctionDef)}


@dataclass(frozen=True, slots=True)
class Enclosing:
    """Where an expression sits: the enclosing defs (outermost first), the
    class whose method contains it, and that method's ``self`` name."""

    functions: tuple[Function, ...] = ()
    klass: cst.ClassDef | None = None
    self_name: str | None = None

    @classmethod
    def of(cls, stack: Sequence[cst.CSTNode]) -> Enclosing:
        """From a stack of enclosing ClassDef/FunctionDef nodes (outermost first)."""
        functions = tuple(node for node in stack if isinstance(node, cst.FunctionDef))
        klass: cst.ClassDef | None = None
        self_name: str | None = None
        for outer, inner in itertools.pairwise(stack):
            if isinstance(outer, cst.ClassDef) and isinstance(inner, cst.FunctionDef):
                klass, self_name = outer, first_parameter(inner)
        if stack and isinstance(stack[-1], cst.ClassDef):
            klass, self_name = stack[-1], None
        return cls(functions, klass, self_name)


def _nested_def(functions: Sequence[Function], name: str) -> Function | None:
    for function in reversed(functions):
        body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
        for statement in _flat_statements(body):
            if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
                return statement
    return None


def resolve_callable(
    expr: cst.BaseExpression,
    index: ModuleIndex,
    names: NameTracker,
    where: Enclosing,
    scope: Scope | None = None,
    depth: int = 0,
) -> Function | None:
    """The ``def`` that calling ``expr`` runs, when it is defined in this module.

    Handles ``func``, ``self.method`` (with local base classes), ``Class.method``,
    ``lambda: func(...)`` and ``functools.partial(func, ...)``.
    """
    if isinstance(expr, cst.Name):
        nested = _nested_def(where.functions, expr.value)
        if nested is not None:
            return nested
        bound = _bound_once(where.functions, expr.value)
        if bound is not None and not isinstance(bound, cst.Name) and depth < 4:
            # `target = functools.partial(work, path)`: the callable the local holds
            # (`f = partial(f, ...)` chains stop at a few links).
            return resolve_callable(bound, index, names, where, scope, depth + 1)
        if names.resolve_name(expr.value, scope) is not None:
            return None  # an import or a builtin: defined in another module
        return index.functions.get(expr.value)
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
        receiver = expr.value.value
        if where.klass is not None and receiver in (where.self_name, "self", "cls"):
            return index.method(where.klass, expr.attr.value)
        if receiver in index.classes:
            return index.method(index.classes[receiver], expr.attr.value)
        return None
    if isinstance(expr, cst.Lambda):
        if isinstance(expr.body, cst.Call):
            return resolve_callable(expr.body.func, index, names, where, scope, depth)
        return None
    if isinstance(expr, cst.Call) and expr.args and names.call_name(expr, scope) == "functools.partial":
        return resolve_callable(expr.args[0].value, index, names, where, scope, depth)
    return None


def _bound_once(functions: Sequence[Function], name: str) -> cst.BaseExpression | None:
    """The value of the one plain assignment ``name = value`` in the innermost
    function, or None (not a local, or bound more than once)."""
    if not functions:
        return None
    values = [
        node.value
        for node in iter_nodes(functions[-1].body, into_functions=False)
        if isinstance(node, cst.Assign)
        for target in node.targets if isinstance(target.target, cst.Name) and target.target.value == name
    ]
    return values[0] if len(values) == 1 else None


def callable_label(expr: cst.BaseExpression) -> str:
    """Short human text for a callable expression, for messages."""
    if isinstance(expr, cst.Lambda):
        return f"lambda: {callable_label(expr.body.func)}(...)" if isinstance(expr.body, cst.Call) else "lambda"
    if isinstance(expr, cst.Call) and expr.args:
        return callable_label(expr.args[0].value)
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if isinstance(expr, cst.Name):
        parts.append(expr.value)
    return ".".join(reversed(parts)) or "target"
