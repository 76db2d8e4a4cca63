"""MEM404 raised-recursion-limit."""

from __future__ import annotations

import libcst as cst

from memlint.analysis.constants import evaluate_int, fold, module_constants
from memlint.analysis.names import dotted_name
from memlint.diagnostic import Family
from memlint.options import Option, parse_int
from memlint.rule import Rule

# What `sys.getrecursionlimit()` is taken to return: CPython's default. A
# limit computed from the current one (`old + 100`, `max(old, 5000)`) is
# judged as if computed from the default.
DEFAULT_LIMIT = 1000


class RaisedRecursionLimit(Rule):
    """Flags ``sys.setrecursionlimit(N)`` with a large or non-constant ``N``.

    ## What it does
    Reports calls to `sys.setrecursionlimit` whose argument is a constant
    above `recursion-limit` (default 10,000) or is not a constant at all.
    Restoring a saved limit (`old = sys.getrecursionlimit()` ...
    `sys.setrecursionlimit(old)`) and modest raises relative to the current
    limit (`sys.getrecursionlimit() + 100`) are not reported.

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
    A limit read from configuration or computed at run time is reported as
    unknown, even when it happens to be small.
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
    seed = "2.3 scenario 3: recursion too deep (递归过深)"

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
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
        for call, scope in self._calls:
            value = self._value(call.args[0].value, scope)
            if value is None:
                self.report(call, self.message.format(limit="a value not known until run time"))
            elif value > self.option("recursion-limit"):
                self.report(call, self.message.format(limit=f"{value:,}"))

    def _is_getter(self, expr: cst.BaseExpression) -> bool:
        return isinstance(expr, cst.Call) and self.context.names.call_name(expr) == "sys.getrecursionlimit"

    def _remember(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self._saved.add((self.context.names.current.node, target.value))
        elif isinstance(target, cst.Attribute):
            dotted = dotted_name(target)
            if dotted is not None:
                self._saved.add((None, dotted))

    def _value(self, expr: cst.BaseExpression, scope: object) -> int | float | None:
        """The limit set, with the current limit counted as the default."""
        if isinstance(expr, cst.Name) and (scope, expr.value) in self._saved:
            return DEFAULT_LIMIT
        if isinstance(expr, cst.Attribute) and (None, dotted_name(expr)) in self._saved:
            return DEFAULT_LIMIT
        if isinstance(expr, cst.Call):
            if self._is_getter(expr):
                return DEFAULT_LIMIT
            if isinstance(expr.func, cst.Name) and expr.func.value in ("max", "min") and len(expr.args) >= 2:
                values = [self._value(arg.value, scope) for arg in expr.args]
                if any(v is None for v in values):
                    return None
                return (max if expr.func.value == "max" else min)(values)  # type: ignore[type-var]
        if isinstance(expr, cst.BinaryOperation):
            left = self._value(expr.left, scope)
            right = self._value(expr.right, scope) if left is not None else None
            return fold(expr.operator, left, right) if left is not None and right is not None else None
        if isinstance(expr, cst.Name):
            return self._module_constant(expr.value, scope)
        return evaluate_int(expr)

    def _module_constant(self, name: str, scope: object) -> int | float | None:
        """``LIMIT`` bound once at module level to a number, unless a local hides it."""
        names = self.context.names
        inner = names.scope_of(scope) if isinstance(scope, cst.CSTNode) else None
        while inner is not None and inner is not names.module_scope:
            if name in inner.bindings and not inner.is_class:
                return None
            inner = inner.parent
        return module_constants(self.context.module).get(name)
