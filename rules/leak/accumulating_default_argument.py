"""MEM104 accumulating-default-argument."""

from __future__ import annotations

import libcst as cst

from memlint.rules.leak._containers import AUTO_INSERTING, Event, events, new_container
from memlint.tree.walk import iter_nodes
from memlint.rules.leak._once import fills_when_empty
from memlint.diagnostic import Family
from memlint.options import Option, parse_bool
from memlint.rule import Rule
from memlint.tree.nodes import parameters

_EVENT_NODES = (cst.Call, cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Del)


def _deliberate_memo(name: str) -> bool:
    """``_cache={}``, ``memo={}``, ``_seen=set()``: a private parameter or one
    named as a cache is the memoisation idiom, chosen on purpose."""
    lowered = name.lower()
    return name.startswith("_") or "cache" in lowered or "memo" in lowered


class AccumulatingDefaultArgument(Rule):
    """Flags mutable default arguments that the function body grows.

    ## What it does
    Reports a parameter whose default is a new container (`[]`, `{}`,
    `set()`, `list()`, `dict()`, `defaultdict(...)`...) when the function
    body grows it (`append`, `add`, `update`, `x[k] = v`, `+=`...) and never
    rebinds or empties it. A store at a literal key (`x["Content-Type"] = v`,
    `x.setdefault("Accept", v)`) is not growth: it replaces one entry.

    ## Why is this bad?
    The default is created once, when the `def` runs, and shared by every
    call that omits the argument. Whatever one call adds stays there for the
    next call and for the life of the process.

    ## Example
    ```python
    def collect(event, into=[]):
        into.append(event)
        return into
    ```

    ## Use instead
    ```python
    def collect(event, into=None):
        if into is None:
            into = []
        into.append(event)
        return into
    ```

    ```python
    def describe(options={}):
        return ", ".join(f"{k}={v}" for k, v in options.items())
    ```

    ## Options
    - `default-argument-memo` (default false): also report the memoisation idiom, a
      private or cache-named parameter (`_cache={}`, `memo={}`): it grows on
      purpose, so it is an unbounded cache rather than a slip.

    ## Known limitations
    Growth done by another function the default is passed to is not seen.
    """

    code = "MEM104"
    name = "accumulating-default-argument"
    family = Family.LEAK
    message = (
        "the default `{param}={default}` is shared by every call and this function grows it: "
        "default to `None` and create a new container inside the function"
    )
    options = (Option(
        "default-argument-memo", False,
        "also report the deliberate memoisation idiom: a private (`_cache={}`) or cache-named "
        "(`memo={}`) parameter", parse_bool,
    ),)
    seed = "a mutable default argument that grows on every call"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if len(self.context.where.functions()) > 1:
            return  # a nested def runs per call of its parent: fresh defaults each time
        names = self.context.names
        params = node.params
        defaults = {
            param.name.value: (param.default, kind)
            for param in parameters(params)  # `*args`/`**kwargs` have no default
            if param.default is not None
            and not isinstance(param.default, (cst.ListComp, cst.DictComp, cst.SetComp))
            and (self.option("default-argument-memo") or not _deliberate_memo(param.name.value))
            and (kind := new_container(param.default, names)) is not None
        }
        if not defaults:
            return
        grown: dict[str, cst.CSTNode] = {}
        safe: set[str] = set()
        nested = {n for n in iter_nodes(node.body) if isinstance(n, (cst.FunctionDef, cst.Lambda))}
        inside_nested = {d for n in nested for d in iter_nodes(n)}
        # Growth counts in the body itself; a shrink anywhere, closures and
        # lambdas included (`on_fail=lambda: stack.pop()`), makes it a stack.
        for child in iter_nodes(node.body):
            if not isinstance(child, _EVENT_NODES):
                continue
            for event, expr in events(child):
                if not isinstance(expr, cst.Name) or expr.value not in defaults:
                    continue
                kind = defaults[expr.value][1]
                if event is Event.GROW or (event is Event.GROW_ITEM and kind in AUTO_INSERTING):
                    if child not in inside_nested and not fills_when_empty(node, child, expr.value):
                        grown.setdefault(expr.value, child)
                elif event is Event.SHRINK or (event is Event.REBIND and child not in inside_nested):
                    safe.add(expr.value)
        for name in grown.keys() - safe:
            default = defaults[name][0]
            self.report(default, self.message.format(param=name, default=self.context.module.code_for_node(default)))
