"""MEM404 raised-recursion-limit."""

from __future__ import annotations

import libcst as cst

from memlint.analysis.constants import evaluate_int
from memlint.diagnostic import Family
from memlint.options import Option, parse_int
from memlint.rule import Rule


class RaisedRecursionLimit(Rule):
    """Flags ``sys.setrecursionlimit(N)`` with a large or non-constant ``N``.

    ## What it does
    Reports calls to `sys.setrecursionlimit` whose argument is a constant
    above `recursion-limit` (default 10,000) or is not a constant at all.

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

    ## Options
    - `recursion-limit`: the largest limit accepted (default 10000).
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

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.names.call_name(node) != "sys.setrecursionlimit" or not node.args:
            return
        value = evaluate_int(node.args[0].value)
        if value is None:
            self.report(node, self.message.format(limit="a value not known until run time"))
        elif value > self.option("recursion-limit"):
            self.report(node, self.message.format(limit=f"{value:,}"))
