"""MEM404 raised-recursion-limit."""

from __future__ import annotations

import re
from typing import Final, Union

import libcst as cst

from memlint.analysis.constants import evaluate_int, fold, module_constants
from memlint.rules.oom._scoped import ScopeBindings
from memlint.tree.nodes import parameters
from memlint.tree.names import dotted_name
from memlint.diagnostic import Family
from memlint.options import Option, parse_int
from memlint.rule import FileContext, Rule

# What `sys.getrecursionlimit()` is taken to return: CPython's default. A
# limit computed from the current one (`old + 100`, `max(old, 5000)`) is
# judged as if computed from the default.
DEFAULT_LIMIT = 1000


_PARAMETER: Final = "parameter"
# A multiple of the current limit (`sys.getrecursionlimit() * 10`): the current
# limit may already be raised, and scaling compounds, so this is no small raise.
_SCALED: Final = "scaled"
_NUMBER: Final = "number"  # internal: no marker among combined values
_SCALING = (cst.Multiply, cst.Power, cst.LeftShift)
Value = Union[int, float, str, None]
# Wrappers named after the API (`set_recursion_limit(limit)`,
# `_setrecursionlimit(self, new_limit)`): their callers choose the limit.
_WRAPPER_NAME = re.compile(r"set_?recursion_?limit", re.IGNORECASE)
# Helpers that measure the current stack depth (`support.get_recursion_depth()`).
_DEPTH_FUNCTION = re.compile(r"(?:^|_)(?:get_?)?(?:recursion|stack)_?depth$", re.IGNORECASE)


def _measures_depth(call: cst.Call) -> bool:
    dotted = dotted_name(call.func)
    return dotted is not None and bool(_DEPTH_FUNCTION.search(dotted.rsplit(".", 1)[-1]))


def _probes(call: cst.Call, index: ScopeBindings | None) -> bool:
    """True when ``call`` is in the body of a ``try`` that catches
    ``RecursionError``: only setting a limit *below* the current depth
    raises it, so the code is lowering the limit."""
    if index is None:
        return False
    child: cst.CSTNode = call
    for ancestor in index.ancestors(call):
        if isinstance(ancestor, cst.Try) and child is ancestor.body:
            for handler in ancestor.handlers:
                caught = handler.type
                names = caught.elements if isinstance(caught, cst.Tuple) else [caught] if caught is not None else []
                for name in names:
                    value = name.value if isinstance(name, cst.Element) else name
                    if isinstance(value, cst.Name) and value.value == "RecursionError":
                        return True
        child = ancestor
    return False


def _combine(values: list[Value]) -> Value:
    """The marker that wins when values are combined by arithmetic or ``max``:
    parameter over unknown over scaled (a value involving a parameter is
    its caller's choice); ``_NUMBER`` when all are numbers."""
    for marker in (_PARAMETER, None, _SCALED):
        if marker in values:
            return marker
    return _NUMBER


class RaisedRecursionLimit(Rule):
    """Flags ``sys.setrecursionlimit(N)`` with a large or non-constant ``N``.

    ## What it does
    Reports calls to `sys.setrecursionlimit` whose argument is a constant
    above `recursion-limit` (default 10,000), a multiple of the current
    limit (`sys.getrecursionlimit() * 10`) or not a constant at all (a
    parameter, `depth * 2`, `max(1000, n)`). Restoring a saved limit
    (`old = sys.getrecursionlimit()` ... `sys.setrecursionlimit(old)`),
    modest raises relative to the current limit
    (`sys.getrecursionlimit() + 100`) and caps (`min(n, 5000)`) are not
    reported.

    ## Why is this bad?
    The limit exists to turn runaway recursion into a catchable
    `RecursionError`. Raised far enough, deep recursion overflows the C stack
    first and the process dies with a segmentation fault: an out-of-memory
    crash with no traceback.

    ## Example
    ```python
    import sys

    sys.setrecursionlimit(1_000_000)
    ```

    ## Use instead
    ```python
    def walk(root):
        stack = [root]
        while stack:
            node = stack.pop()
            stack.extend(node.children)
    ```

    ```python
    import sys

    def parse_nested(text, parser):
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(old + 500)
        try:
            return parser(text)
        finally:
            sys.setrecursionlimit(old)
    ```

    ## Options
    - `recursion-limit`: the largest limit accepted (default 10000).

    ## Known limitations
    A limit read from configuration, imported from another module or
    computed at run time is reported as unknown, even when it happens to be
    small. A limit passed in as a parameter is reported, except in a helper
    that saves the current limit and restores it in the same function (a
    context manager or decorator that lends its caller a limit for a while):
    there the caller decides. A non-constant limit set inside
    `try ... except RecursionError` is taken as being lowered and is not
    reported.
    """

    code = "MEM404"
    name = "raised-recursion-limit"
    family = Family.OOM
    message = (
        "`sys.setrecursionlimit` raised to {limit}: deep recursion will overflow the C stack "
        "and kill the process; use an iterative algorithm or an explicit stack"
    )
    triggers = ("setrecursionlimit",)
    options = (Option("recursion-limit", 10_000, "largest recursion limit accepted", parse_int),)
    seed = "recursion so deep that it overflows the stack"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # (scope, dotted name) of values saved from `sys.getrecursionlimit()`;
        # attributes (`self._old_limit`) are keyed module-wide (scope None).
        self._saved: set[tuple[object, str]] = set()
        self._calls: list[tuple[cst.Call, object]] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._is_getter(node.value):
            for target in node.targets:
                self._remember(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and self._is_getter(node.value):
            self._remember(node.target)

    def visit_Call(self, node: cst.Call) -> None:
        if node.args and self.context.names.call_name(node) == "sys.setrecursionlimit":
            self._calls.append((node, self.context.names.current.node))

    def leave_Module(self, original_node: cst.Module) -> None:
        # Saving may come after restoring in the source (`__exit__` above
        # `__enter__`), so decide at the end.
        indexes: dict[int, ScopeBindings | None] = {}
        restoring = {id(scope) for call, scope in self._calls if self._is_saved(call.args[0].value, scope)}
        for call, scope in self._calls:
            if id(scope) not in indexes:
                indexes[id(scope)] = ScopeBindings(scope) if isinstance(scope, (cst.FunctionDef, cst.Module)) else None
            value = self._value(call.args[0].value, scope, indexes[id(scope)], set())
            if value is _PARAMETER and self._lends(scope, restoring):
                continue  # a wrapper, or a helper that sets its caller's limit for a while
            if value is None and _probes(call, indexes[id(scope)]):
                continue  # lowering until no RecursionError: a probe, not a raise
            if isinstance(value, str) or value is None:
                limit = "a multiple of the current limit" if value is _SCALED else "a value not known until run time"
                self.report(call, self.message.format(limit=limit))
            elif value > self.option("recursion-limit"):
                self.report(call, self.message.format(limit=f"{value:,}"))

    def _lends(self, scope: object, restoring: set[int]) -> bool:
        """True for a wrapper named after the API, or a function that (or
        whose enclosing function) restores a saved limit: the limit is its
        caller's, and only for a while."""
        if isinstance(scope, cst.FunctionDef) and _WRAPPER_NAME.search(scope.name.value):
            return True
        names = self.context.names
        current = names.scope_of(scope) if isinstance(scope, cst.CSTNode) else None
        while current is not None and current is not names.module_scope:
            if id(current.node) in restoring:
                return True
            current = current.parent
        return False

    def _is_getter(self, expr: cst.BaseExpression) -> bool:
        return isinstance(expr, cst.Call) and self.context.names.call_name(expr) == "sys.getrecursionlimit"

    def _is_saved(self, expr: cst.BaseExpression, scope: object) -> bool:
        """A limit saved from `sys.getrecursionlimit()`, used unchanged."""
        if isinstance(expr, cst.Name):
            return (scope, expr.value) in self._saved
        return isinstance(expr, cst.Attribute) and (None, dotted_name(expr)) in self._saved

    def _is_current(self, expr: cst.BaseExpression, scope: object) -> bool:
        """The current limit or depth: saved, or read in place."""
        if isinstance(expr, cst.Call):
            return self._is_getter(expr) or _measures_depth(expr)
        return self._is_saved(expr, scope)

    def _remember(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self._saved.add((self.context.names.current.node, target.value))
        elif isinstance(target, cst.Attribute):
            dotted = dotted_name(target)
            if dotted is not None:
                self._saved.add((None, dotted))

    def _value(self, expr: cst.BaseExpression, scope: object, index: ScopeBindings | None, seen: set[str]) -> Value:
        """The limit set, with the current limit (or depth) counted as the default
        limit; ``_PARAMETER`` when it comes from a parameter of the function,
        ``_SCALED`` for a multiple of the current limit, None when unknown."""
        if self._is_current(expr, scope):
            return DEFAULT_LIMIT
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("max", "min") and len(expr.args) >= 2:
            values = [self._value(arg.value, scope, index, seen) for arg in expr.args]
            return self._max(values) if expr.func.value == "max" else self._min(values)
        if isinstance(expr, cst.BinaryOperation):
            return self._binary(expr, scope, index, seen)
        if isinstance(expr, cst.Name):
            if index is not None and expr.value in index.bindings and expr.value not in seen:
                return self._local(expr.value, scope, index, seen | {expr.value})
            return self._module_constant(expr.value, scope)
        return evaluate_int(expr)

    def _binary(self, expr: cst.BinaryOperation, scope: object, index: ScopeBindings | None, seen: set[str]) -> Value:
        left = self._value(expr.left, scope, index, seen)
        right = self._value(expr.right, scope, index, seen)
        marker = _combine([left, right])
        if marker is not _NUMBER:
            return marker
        if isinstance(expr.operator, _SCALING) and (
            (self._is_current(expr.left, scope) and right > 1)  # type: ignore[operator]
            or (isinstance(expr.operator, cst.Multiply) and self._is_current(expr.right, scope) and left > 1)  # type: ignore[operator]
        ):
            return _SCALED
        return fold(expr.operator, left, right)  # type: ignore[arg-type]

    def _max(self, values: list[Value]) -> Value:
        marker = _combine(values) if values else None
        return max(values) if marker is _NUMBER else marker  # type: ignore[type-var]

    def _min(self, values: list[Value]) -> Value:
        """A cap at or below the threshold bounds the limit whatever the other values."""
        numbers = [v for v in values if isinstance(v, (int, float))]
        if numbers and min(numbers) <= self.option("recursion-limit"):
            return min(numbers)
        marker = _combine(values)
        return min(numbers) if marker is _NUMBER else marker

    def _local(self, name: str, scope: object, index: ScopeBindings, seen: set[str]) -> Value:
        """The largest value a local is bound to: constants, loops over constant tuples."""
        values: list[Value] = []
        for binding in index.bindings[name]:
            if binding.kind == "param":
                return _PARAMETER
            if binding.kind == "assign" and binding.value is not None:
                values.append(self._value(binding.value, scope, index, seen))
            elif binding.kind == "for" and isinstance(binding.value, (cst.Tuple, cst.List)):
                values.extend(self._value(e.value, scope, index, seen) for e in binding.value.elements)
            else:
                return None
        return self._max(values)

    def _module_constant(self, name: str, scope: object) -> Value:
        """``LIMIT`` bound once at module level to a number, unless a local
        hides it; ``_PARAMETER`` for a parameter of an enclosing function
        (a decorator or context manager that sets the caller's limit)."""
        names = self.context.names
        inner = names.scope_of(scope) if isinstance(scope, cst.CSTNode) else None
        while inner is not None and inner is not names.module_scope:
            if name in inner.bindings and not inner.is_class:
                if isinstance(inner.node, cst.FunctionDef) and name in {p.name.value for p in parameters(inner.node.params)}:
                    return _PARAMETER
                return None
            inner = inner.parent
        return module_constants(self.context.module).get(name)
