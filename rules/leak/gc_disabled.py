"""MEM107 gc-disabled."""

from __future__ import annotations

import re

import libcst as cst

from memlint.diagnostic import Family
from memlint.rule import FileContext, Rule
from memlint.rules.leak._classes import defining_class
from memlint.rules.leak._once import enclosing_ifs
from memlint.tree.names import dotted_name
from memlint.tree.walk import Path, iter_nodes


class GcDisabled(Rule):
    """Flags `gc.disable()` with no `gc.enable()` after it.

    ## What it does
    Reports `gc.disable()` when the same function (or module) does not call
    or hand over `gc.enable` after it. A function named as the opening half
    of a pair (`setUp...`, `__enter__`, `start`, `begin`, `pause`, ...) is
    excused when another method of the same class (for a method) or
    module-level function (for a function) enables the collector: an
    `__enter__`/`__exit__` or `setUpModule`/`tearDownModule` pair counts.
    A module that runs `gc.collect()` on its own schedule (in a loop, or
    handed to a scheduler such as `LoopingCall(gc.collect)`) manages the
    collector by hand and is not reported; one `gc.collect()` in a
    `stop()` does not.

    ## Why is this bad?
    With the cyclic collector off, every reference cycle (objects pointing
    at each other, exceptions holding frames, closures) is never freed. A
    long-running process leaks steadily.

    ## Example
    ```python
    import gc

    def load_index(path):
        gc.disable()
        return build_index(path)
    ```

    ## Use instead
    ```python
    import gc

    def load_index(path):
        gc.disable()
        try:
            return build_index(path)
        finally:
            gc.enable()
    ```

    ## Known limitations
    Pairing is by presence and by name, not by call order: a sibling that
    enables the collector excuses every disable in functions named as the
    opening half of a pair. A function named for the job (`disable_gc`,
    `opt_disablegc`) is the caller's switch and is not reported.
    """

    code = "MEM107"
    name = "gc-disabled"
    family = Family.LEAK
    message = (
        "`gc.disable()` with no `gc.enable()` after it: reference cycles are never collected again; "
        "re-enable in a `finally` (or use `gc.freeze()` for start-up objects)"
    )
    triggers = ("disable",)
    seed = "garbage collection switched off, so reference cycles are never freed"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Each `gc.disable()`: the call, its ancestors, the innermost def or
        # class holding it (else the module), and the class it belongs to.
        self._disables: list[tuple[cst.Call, Path, cst.CSTNode, cst.ClassDef | None]] = []
        # Functions that mention `gc.enable`, by the class they are methods of
        # (None: module-level and nested functions).
        self._enabling: dict[cst.ClassDef | None, set[cst.FunctionDef]] = {}
        self._saved_states: set[str] = set()  # names holding `gc.isenabled()`
        # `gc.collect` mentioned anywhere: the program collects cycles itself.
        self._collects_by_hand = False

    def _scope(self) -> tuple[cst.CSTNode, cst.ClassDef | None]:
        """The innermost def or class (else the module), and its class: the
        class itself, a method's class, None for other functions."""
        where = self.context.where
        owner = where.owner
        if owner is None:
            return self.context.module, None
        if isinstance(owner, cst.ClassDef):
            return owner, owner
        return owner, defining_class(where.definitions())

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.names.call_name(node) == "gc.disable":
            scope, owner = self._scope()
            self._disables.append((node, self.context.where.parents, scope, owner))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # A mention of `gc.enable` in a function pairs with disables in the
        # other functions of the module: `__enter__`/`__exit__`, `start`/`stop`,
        # `setUpModule`/`tearDownModule`, `addCleanup(gc.enable)`.
        # Methods pair within their class, module functions with module functions.
        if node.attr.value == "collect" and self.context.names.qualified_name(node) == "gc.collect" \
                and self._on_a_schedule(node):
            self._collects_by_hand = True
        if node.attr.value == "enable" and self.context.names.qualified_name(node) == "gc.enable":
            scope, owner = self._scope()
            if isinstance(scope, cst.FunctionDef):
                self._enabling.setdefault(owner, set()).add(scope)

    def _on_a_schedule(self, collect: cst.Attribute) -> bool:
        """``gc.collect`` handed to a scheduler (``LoopingCall(gc.collect)``) or
        called in a loop: the program runs the collector on its own schedule."""
        parents = self.context.where.parents
        if not (parents and isinstance(parents[-1], cst.Call) and parents[-1].func is collect):
            return True  # not called here: handed on, to be called later
        for node in reversed(parents):
            if isinstance(node, (cst.For, cst.While)):
                return True
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                return False
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        # `enabled = gc.isenabled()`: a later `if not enabled: gc.disable()`
        # restores the state found, it does not switch the collector off.
        if isinstance(node.value, cst.Call) and self.context.names.call_name(node.value) == "gc.isenabled":
            self._saved_states.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))

    def finish(self) -> None:
        if self._collects_by_hand:
            return  # the collector is off so that the program runs it when it chooses
        for call, parents, scope, owner in self._disables:
            if isinstance(scope, cst.FunctionDef) and (
                self._paired(scope, owner, call, parents) or _named_for_it(scope.name.value)
            ):
                continue
            if _enabled_after(scope, call) or self._restores_state(scope, call, parents):
                continue
            self.report(call)

    def _paired(self, scope: cst.FunctionDef, owner: cst.ClassDef | None, call: cst.Call, parents: Path) -> bool:
        """Whether another function enables the collector as the other half of
        a bracket: ``setUp``/``tearDown``, ``__enter__``/``__exit__``,
        ``pause``/``resume``; or this function is a setter that enables on
        another branch (``if state: gc.enable() else: gc.disable()``)."""
        siblings = self._enabling.get(owner, set()) - {scope}
        if siblings and _opens_a_pair(scope.name.value):
            return True
        if _closes_a_pair(scope.name.value) and any(_opens_a_pair(f.name.value) for f in siblings):
            return True  # `setUp` enables, `tearDown` puts the collector back off
        if any(_closes_a_pair(f.name.value) for f in siblings):
            return True  # `__exit__`/`stop` of the same class turns it back on
        if any(_is_teardown(f.name.value) for f in self._enabling.get(None, ())):
            return True  # `tearDownModule` turns it back on for every test
        return scope in self._enabling.get(owner, set()) and bool(enclosing_ifs(scope.body, call, parents))

    def _restores_state(self, scope: cst.CSTNode, call: cst.Call, parents: Path) -> bool:
        if not self._saved_states:
            return False
        body = scope.body if isinstance(scope, (cst.FunctionDef, cst.ClassDef)) else scope
        return any(
            isinstance(node, cst.Name) and node.value in self._saved_states
            for statement in enclosing_ifs(body, call, parents)
            for node in (statement.test, *iter_nodes(statement.test))
        )


# Words of function names that open a bracket another function closes
# (`setUpModule`/`tearDownModule`, `__enter__`/`__exit__`, `pause`/`resume`).
_OPENERS = frozenset({"setup", "enter", "start", "begin", "pause", "suspend", "disable", "freeze", "acquire", "before", "push"})


def _name_words(name: str) -> set[str]:
    """``tearDownModule`` -> {tear, down, module}; ``opt_disablegc`` -> {opt, disablegc}."""
    return {word.lower() for word in re.findall(r"[a-z]+|[A-Z][a-z]*", name)}


def _is_teardown(name: str) -> bool:
    return name.lower().startswith(("teardown", "tear_down"))


def _opens_a_pair(name: str) -> bool:
    """Whether a function so named is one half of a pair: a sibling that
    enables the collector is its other half. ``bulk_load`` is no such half:
    an unrelated ``restore()`` elsewhere does not excuse it."""
    if name.lower().startswith(("setup", "set_up")):
        return True  # setUp, setUpClass, setUpModule, setup_method
    return bool(_name_words(name) & _OPENERS)


_CLOSERS = frozenset({"teardown", "exit", "stop", "end", "resume", "close", "release", "after", "finish", "cleanup", "thaw", "pop"})


def _named_for_it(name: str) -> bool:
    """``disable_gc``, ``opt_disablegc``, ``pause_collector``: turning the
    collector off is what the caller asked for; whoever calls it owns the
    state (as with ``gc.disable`` itself)."""
    folded = name.lower().replace("_", "")
    return any(verb in folded for verb in ("disable", "pause", "suspend", "off", "stop")) and any(
        noun in folded for noun in ("gc", "garbage", "collect")
    )


def _closes_a_pair(name: str) -> bool:
    """``tearDown``, ``tearDownModule``, ``__exit__``, ``stop``, ``resume``..."""
    return _is_teardown(name) or bool(_name_words(name) & _CLOSERS)


def _enabled_after(scope: cst.CSTNode, call: cst.Call) -> bool:
    """Whether ``scope`` calls ``gc.enable`` after ``call`` (source order), or
    hands ``gc.enable`` over to run later (``addCleanup(gc.enable)``) anywhere."""
    spelt = dotted_name(call.func) or ""
    enable = spelt[: -len("disable")] + "enable"
    seen = False
    called: set[cst.CSTNode] = set()
    body = scope.body if isinstance(scope, (cst.FunctionDef, cst.ClassDef)) else scope
    for node in iter_nodes(body, into_functions=False):
        if node is call:
            seen = True
        elif isinstance(node, cst.Call):
            called.add(node.func)
        elif isinstance(node, (cst.Attribute, cst.Name)) and dotted_name(node) == enable and (
            seen or node not in called
        ):
            return True
    return False
