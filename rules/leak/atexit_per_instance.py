"""MEM109 atexit-per-instance."""

from __future__ import annotations

import libcst as cst

from memlint.analysis.schedule import schedule_of
from memlint.diagnostic import Family
from memlint.rule import FileContext, Rule
from memlint.rules.leak._caches import MethodKind, method_kind
from memlint.rules.leak._classes import is_singleton
from memlint.rules.leak._once import runs_once
from memlint.tree.names import dotted_name
from memlint.tree.walk import Path, iter_nodes
from memlint.tree.nodes import first_parameter


class AtexitPerInstance(Rule):
    """Flags `atexit.register` of a bound method or object in per-instance or per-call code.

    ## What it does
    Reports, inside an instance method, `atexit.register(self.close)`,
    `atexit.register(conn.close)` for an object made in the method,
    `atexit.register(cleanup, self)`, a `partial` of a bound method or a
    lambda using `self`, an object a class method makes (`obj = cls(...)`),
    unless the module takes that callback back (`atexit.unregister(self.close)`,
    matched as spelt; an unregister of a callback it cannot name silences
    the file), no once-only flag
    (a `global` or class attribute the method sets) guards it, and the
    class is not a singleton (a `Singleton` base or metaclass, or one
    instance made at module level).

    A registration in code that runs once (module level, start-up code only
    it calls, the one instance of a class that caches its instance, behind a
    once-only flag) is not reported. A plain function registering an object
    it creates (`conn = connect(); atexit.register(conn.close)`) is reported
    only when the module shows it running repeatedly: called from code that
    does not run once, or a decorator's wrapper.

    ## Why is this bad?
    The `atexit` registry is process-wide and only emptied at exit. Every
    registration made per object keeps that object (and everything it
    references) alive until the process ends, even after it is closed.

    ## Example
    ```python
    import atexit

    class Connection:
        def __init__(self, address):
            self.address = address
            atexit.register(self.close)

        def close(self):
            pass
    ```

    ## Use instead
    ```python
    import weakref

    class Connection:
        def __init__(self, address):
            self.address = address
            self._finalizer = weakref.finalize(self, print, "closing", address)

        def close(self):
            self._finalizer()
    ```

    ```python
    import atexit

    class Connection:
        def __init__(self, address):
            atexit.register(self.close)

        def close(self):
            atexit.unregister(self.close)
    ```

    ## Known limitations
    Opt-in: on the ecosystem check's fresh test set it was right 5 in 10 at
    first look (docs/ecosystem.md). Whether growth repeats per request, and
    how many keys or instances there are, is mostly decided in other modules
    (a singleton made by `main`, keys from configuration), which a one-module
    analysis cannot see. Enable it (`--select MEM109` or `extend-select`)
    to review a service's long-lived state.
    A registration that only happens once per process because of how other
    modules use the class (one instance made by another module's `main`) is
    reported. A factory only other modules call is not.
    """

    code = "MEM109"
    default = False
    name = "atexit-per-instance"
    family = Family.LEAK
    message = (
        "`atexit.register` of `{what}` per instance or call keeps every object alive until exit: "
        "use `weakref.finalize(obj, ...)`, or `atexit.unregister` it when the object is closed"
    )
    triggers = ("register",)
    seed = "an exit callback registered for every object, keeping each object alive until the process exits"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # (the `atexit.register` call, its ancestors, the innermost def, what it pins)
        self._found: list[tuple[cst.Call, Path, cst.FunctionDef, str, cst.ClassDef | None]] = []
        # What `atexit.unregister` takes back, as spelt (`self.close`); None:
        # something this rule cannot name, which may be any registration.
        self._unregistered: set[str | None] = set()

    def visit_Call(self, node: cst.Call) -> None:
        name = self.context.names.call_name(node)
        if name == "atexit.unregister" and node.args:
            self._unregistered.add(self._trailing(node.args[0].value, unregistering=True))
        for index, arg in enumerate(node.args):
            # `stack.callback(atexit.unregister, self._stack.close)`: taken back later.
            # (The trigger word is `register`: this runs on every call of many files,
            # so only a bare name or an `.unregister` attribute is resolved.)
            value = arg.value
            if not (isinstance(value, cst.Name) or (isinstance(value, cst.Attribute) and value.attr.value == "unregister")):
                continue
            if self.context.names.qualified_name(value) == "atexit.unregister":
                rest = node.args[index + 1:]
                self._unregistered.add(self._trailing(rest[0].value, unregistering=True) if rest else None)
        if name != "atexit.register" or not node.args:
            return
        where = self.context.where
        function, cls = where.function, where.cls
        if function is None or (cls is not None and is_singleton(cls, self.context.module)):
            return  # one instance per process: nothing accumulates
        what = self._pinned(node, function)
        if what is not None:
            self._found.append((node, where.parents, function, what, cls))

    def _pinned(self, call: cst.Call, function: cst.FunctionDef) -> str | None:
        """What object the registration keeps alive, spelt as in the code."""
        receiver, kind = self._method()
        instance = receiver if kind is MethodKind.INSTANCE else None
        code = self.context.module.code_for_node
        first = call.args[0].value
        if isinstance(first, cst.Attribute) and isinstance(first.value, cst.Name):
            base = first.value.value
            # A bound method of the instance, or of an object made per call;
            # a class method's `cls` exists once per class.
            # A plain function registering a local object's method is as often
            # a once-per-process factory (a pid lock, a CLI's log file): it is
            # reported only when the module shows it running again and again
            # (called from per-call code, or a decorator's wrapper).
            if base == instance or (instance is not None and base != receiver and self.context.names.is_local(base)):
                return code(first)
            if instance is None and receiver is None and self.context.names.is_local(base) \
                    and schedule_of(self.context.module).runs_repeatedly(function):
                return code(first)
            if kind is MethodKind.CLASS and base != receiver and self.context.names.is_local(base):
                return code(first)  # a class method making instances: one registration per instance
        if instance is not None and isinstance(first, cst.Attribute) and _rooted_at(first.value, instance):
            return code(first)  # `self.conn.close`: pins the connection each instance made
        if instance is None:
            return None
        # A lambda captures `self` whenever it uses it; a call or an argument
        # pins it only when given `self` itself, not `self.some_attribute`.
        if isinstance(first, cst.Lambda) and _mentions(first, instance):
            return code(first)
        if isinstance(first, cst.Call) and _mentions_bare(first, instance):
            return code(first)
        if isinstance(first, cst.Call) and self.context.names.call_name(first) == "functools.partial" and first.args \
                and isinstance(first.args[0].value, cst.Attribute) and _rooted_at(first.args[0].value, instance):
            return code(first)  # `partial(self.close, True)` holds the bound method, and so `self`
        if any(_mentions_bare(arg.value, instance) for arg in call.args[1:]):
            return instance
        return None

    def _method(self) -> tuple[str | None, MethodKind | None]:
        """First parameter and kind of the innermost enclosing method."""
        definitions = self.context.where.definitions()
        for index in range(len(definitions) - 1, 0, -1):
            node, parent = definitions[index], definitions[index - 1]
            if isinstance(node, cst.FunctionDef) and isinstance(parent, cst.ClassDef):
                return first_parameter(node), method_kind(node, True, self.context.names)
        return None, None

    def _trailing(self, callback: cst.BaseExpression, unregistering: bool = False) -> str | None:
        """``self.close``, ``conn.close`` or a module function's name, as spelt."""
        if isinstance(callback, cst.Attribute):
            return dotted_name(callback)
        if isinstance(callback, cst.Name) and (not unregistering or self.context.names.is_module_level(callback.value)):
            return callback.value
        return None

    def finish(self) -> None:
        if None in self._unregistered:
            return  # `atexit.unregister(callback)` with a callback from elsewhere: may be any of them
        for call, parents, function, what, cls in self._found:
            if self._trailing(call.args[0].value) in self._unregistered:
                continue  # taken back in the close path
            if runs_once(function, call, parents) or any(
                isinstance(node, cst.Global) for node in iter_nodes(function.body, into_functions=False)
            ):
                continue  # behind a once-only flag
            # Asked last: the schedule reads the whole module.
            schedule = schedule_of(self.context.module)
            if schedule.runs_once(function):
                continue  # start-up code
            if cls is not None and schedule.single_instance(cls) and runs_once(function, call, parents, per_instance=True):
                continue  # once per instance, and there is one instance
            self.report(call, self.message.format(what=what))


def _rooted_at(expr: cst.BaseExpression, name: str) -> bool:
    """``self.a`` / ``self.a.b`` for ``name`` == "self"."""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
        if isinstance(expr, cst.Name):
            return expr.value == name
    return False


def _mentions(expr: cst.CSTNode, name: str) -> bool:
    return (isinstance(expr, cst.Name) and expr.value == name) or any(
        isinstance(node, cst.Name) and node.value == name for node in iter_nodes(expr)
    )


def _mentions_bare(expr: cst.CSTNode, name: str) -> bool:
    """``name`` used as a value of its own, not as the base of ``name.attr``."""
    bases = {node.value for node in (expr, *iter_nodes(expr)) if isinstance(node, cst.Attribute)}
    return any(
        isinstance(node, cst.Name) and node.value == name and node not in bases for node in (expr, *iter_nodes(expr))
    )
