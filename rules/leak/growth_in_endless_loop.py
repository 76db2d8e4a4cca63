"""MEM105 growth-in-endless-loop."""

from __future__ import annotations

import libcst as cst

from memlint.rules.leak._containers import AUTO_INSERTING, SHRINK_METHODS, Event, events, lookups, new_container
from memlint.tree.nodes import first_parameter
from memlint.tree.walk import iter_nodes
from memlint.analysis.loops import is_endless, left_by_exception
from memlint.diagnostic import Family
from memlint.rules.leak._growth import keyed_by_identity
from memlint.rule import FileContext, Rule

_EVENT_NODES = (cst.Call, cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Del, cst.Comparison, cst.Return, cst.Yield)


class GrowthInEndlessLoop(Rule):
    """Flags containers grown on every pass of a loop that never ends.

    ## What it does
    Reports a local `list`/`dict`/`set`/`deque()`... created before a
    `while True:` loop that nothing leaves (no `break`, `return`, `raise` or
    `sys.exit`), when the loop grows it and nothing in the function removes
    entries, rebinds it inside the loop, checks its `len()` or hands it to
    other code. The same for a container on the instance
    (`self._threads.append(t)` in a method's `while True:`) that the class
    creates unbounded and never shrinks, rebinds after `__init__`, bounds or
    hands on, unless the loop is a generator fed by `yield` (it lasts as long
    as the stream its caller sends).

    ## Why is this bad?
    A service loop runs for the life of the process. A container that gains
    an entry per message, connection or tick and loses none grows until the
    process runs out of memory.

    ## Example
    ```python
    def consume(queue):
        seen = set()
        while True:
            message = queue.get()
            seen.add(message.id)
            message.ack()
    ```

    ## Use instead
    ```python
    from collections import deque

    def consume(queue):
        recent = deque(maxlen=10_000)
        while True:
            message = queue.get()
            recent.append(message.id)
            message.ack()
    ```

    ```python
    def consume(queue, flush):
        batch = []
        while True:
            batch.append(queue.get())
            if len(batch) >= 100:
                flush(batch)
                batch = []
    ```

    ## Known limitations
    Only local containers are followed; module-level ones are MEM101's.
    """

    code = "MEM105"
    name = "growth-in-endless-loop"
    family = Family.LEAK
    message = (
        "`{name}` grows on every pass of a loop that never ends and nothing removes entries: "
        "bound it (`deque(maxlen=N)`, a `len()` check), clear or re-create it each iteration, or evict old entries"
    )
    triggers = ("while",)
    seed = "a container that grows on every pass of a loop that never ends"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Local containers (`seen = set()`: name -> kind) of each function, and
        # of the module: a script's `while True:` at top level (or under
        # `if __name__ == "__main__":`) runs for the life of the process.
        self._containers: dict[cst.FunctionDef | cst.Module, dict[str, str]] = {}
        self._reported: set[cst.CSTNode] = set()

    def _frame(self) -> cst.FunctionDef | cst.Module:
        """The innermost def, or the module (class bodies and lambdas are not frames)."""
        function = self.context.where.function
        return self.context.module if function is None else function

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            kind = new_container(node.value, self.context.names)
            if kind is not None:
                self._containers.setdefault(self._frame(), {}).setdefault(node.targets[0].target.value, kind)

    def visit_While(self, node: cst.While) -> None:
        function = self._frame()
        containers = self._containers.get(function)
        if not is_endless(node) or left_by_exception(function, node):
            return  # ends, or the drain idiom: a call in the loop raises to end it
        self._check_attributes(node)
        if not containers:
            return
        grown: dict[str, cst.CSTNode] = {}
        safe = self._handled_elsewhere(function, containers)
        # A map keyed by what it already holds (`old = seen.get(k)`,
        # `if k in seen`, `seen[k]`) tracks state per key: bounded by the key
        # space, not by the number of passes, unless the key names which message
        # it is (`seen.add(msg["id"])`): one entry per message, forever.
        keyed: set[str] = set()
        for child in iter_nodes(node.body, into_functions=False):
            looked_up = lookups(child) if isinstance(child, (cst.Call, cst.Comparison)) else ()
            keyed.update(e.value for e in looked_up if isinstance(e, cst.Name))
            if not isinstance(child, _EVENT_NODES):
                continue
            for event, expr in events(child, self.context.names):
                if not isinstance(expr, cst.Name) or expr.value not in containers:
                    continue
                if event is Event.GROW or (event is Event.GROW_ITEM and containers[expr.value] in AUTO_INSERTING):
                    grown.setdefault(expr.value, child)
                elif event is Event.REBIND:
                    safe.add(expr.value)
        safe.update(name for name in keyed if name not in grown or not keyed_by_identity(grown[name]))
        for name, site in grown.items():
            if name not in safe and site not in self._reported:
                self._reported.add(site)
                self.report(site, self.message.format(name=name))

    def _check_attributes(self, loop: cst.While) -> None:
        """``self._threads.append(t)`` in a method's endless loop: reported when
        the class creates the attribute as an unbounded container and never
        shrinks it, rebinds it outside ``__init__``, checks its ``len()`` or
        hands it to other code."""
        cls, function = self.context.where.cls, self.context.where.function
        receiver = first_parameter(function) if function is not None and cls is not None else None
        if receiver is None or cls is None:
            return
        if any(isinstance(child, cst.Yield) for child in iter_nodes(loop.body, into_functions=False)):
            # A consumer fed one item per `yield` (`_, line = yield`) runs as long
            # as the stream its caller sends, and stops when the caller closes
            # it: the object keeps what one stream gave it, not growth forever.
            return
        grown: dict[str, cst.CSTNode] = {}
        for child in iter_nodes(loop.body, into_functions=False):
            if isinstance(child, _EVENT_NODES):
                for event, expr in events(child, self.context.names):
                    name = _attribute_of(expr, receiver)
                    if name is not None and event is Event.GROW:
                        grown.setdefault(name, child)
        if not grown:
            return
        created, safe = self._class_attributes(cls)
        for name, site in grown.items():
            if name in created and name not in safe and site not in self._reported:
                self._reported.add(site)
                self.report(site, self.message.format(name=f"{receiver}.{name}"))

    def _class_attributes(self, cls: cst.ClassDef) -> tuple[set[str], set[str]]:
        """Attributes the class creates as unbounded containers (in any method,
        on its first parameter), and those it shrinks, bounds, hands on or
        rebinds outside ``__init__``."""
        created: set[str] = set()
        safe: set[str] = set()
        for method in iter_nodes(cls.body):
            if not isinstance(method, cst.FunctionDef):
                continue
            receiver = first_parameter(method)
            if receiver is None:
                continue
            for child in iter_nodes(method.body):
                if isinstance(child, cst.Assign):
                    for target in child.targets:
                        name = _attribute_of(target.target, receiver)
                        if name is None:
                            continue
                        if new_container(child.value, self.context.names) is not None:
                            created.add(name)
                        if method.name.value != "__init__" or new_container(child.value, self.context.names) is None:
                            safe.add(name)  # replaced later, or made bounded
                if isinstance(child, cst.Attribute) and child.attr.value in SHRINK_METHODS:
                    # `task.add_done_callback(self._tasks.remove)`: a shrink, called later.
                    name = _attribute_of(child.value, receiver)
                    if name is not None:
                        safe.add(name)
                if isinstance(child, _EVENT_NODES):
                    for event, expr in events(child, self.context.names):
                        name = _attribute_of(expr, receiver)
                        if name is not None and event in (Event.SHRINK, Event.BOUND, Event.ESCAPE):
                            safe.add(name)
        return created, safe

    def _handled_elsewhere(self, function: cst.FunctionDef | cst.Module, containers: dict[str, str]) -> set[str]:
        """Containers the function shrinks, bounds or hands to other code anywhere."""
        safe: set[str] = set()
        for child in iter_nodes(function if isinstance(function, cst.Module) else function.body, into_functions=True):
            if isinstance(child, _EVENT_NODES):
                for event, expr in events(child, self.context.names):
                    if isinstance(expr, cst.Name) and expr.value in containers and event in (
                        Event.SHRINK, Event.BOUND, Event.ESCAPE,
                    ):
                        safe.add(expr.value)
        return safe


def _attribute_of(expr: cst.BaseExpression, receiver: str) -> str | None:
    """``name`` for ``<receiver>.name``, else None."""
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == receiver:
        return expr.attr.value
    return None
