"""MEM108 handler-accumulation."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from memlint.analysis.logs import is_get_logger, per_call_parts
from memlint.analysis.schedule import schedule_of
from memlint.diagnostic import Family
from memlint.rule import FileContext, Rule
from memlint.rules.leak._caches import MethodKind, method_kind
from memlint.rules.leak._classes import defining_class
from memlint.rules.leak._once import enclosing_ifs, never_runs, runs_once
from memlint.tree.names import dotted_name
from memlint.tree.walk import Path, iter_nodes

# Parameters of a request path: what a handler is called with once per
# request or message (`address`, `user` or `host` are as often configuration).
# Parameters that hold the parsed command line.
_COMMAND_LINE = frozenset({"opts", "options", "argv", "args", "parsed_args", "cli_args"})
# Mentions that show the code knows about handlers already attached.
_GUARDS = frozenset({"handlers", "hasHandlers", "removeHandler"})


@dataclass(slots=True)
class _Frame:
    node: cst.FunctionDef
    owner: cst.ClassDef | None  # the class a method belongs to
    loggers: set[str] = field(default_factory=set)  # locals bound to getLogger(...)
    # (addHandler call, receiver returned, the call's ancestors)
    adds: list[tuple[cst.Call, bool, Path]] = field(default_factory=list)


class HandlerAccumulation(Rule):
    """Flags `addHandler` on a shared logger in code that runs per instance or per call.

    ## What it does
    Reports `logger.addHandler(...)` inside a method (run once per instance),
    inside a function that returns the logger (a factory called per use), or
    inside a function that takes a request, connection or message (a request
    path: `handle(request)`),
    when the logger comes from `logging.getLogger(...)` with a fixed name
    (so every call gets the same logger) and nothing checks or removes the
    handlers already attached (`logger.handlers`, `hasHandlers()`,
    `removeHandler`, a `global` once-only flag).

    ## Why is this bad?
    `getLogger` returns the same logger every time. Each call stacks another
    handler on it: every message is written once more per call, and every
    handler, with its stream or socket, stays alive as long as the logger,
    which is forever.

    ## Example
    ```python
    import logging

    class Job:
        def __init__(self, path):
            self.log = logging.getLogger("jobs")
            self.log.addHandler(logging.FileHandler(path))
    ```

    ## Use instead
    ```python
    import logging

    logger = logging.getLogger("jobs")
    logger.addHandler(logging.StreamHandler())

    class Job:
        def __init__(self, path):
            self.log = logger
    ```

    ```python
    import logging

    def get_logger():
        logger = logging.getLogger("jobs")
        if not logger.handlers:
            logger.addHandler(logging.StreamHandler())
        return logger
    ```

    ## Known limitations
    Opt-in: on the ecosystem check's fresh test set it was right 0 in 2 at
    first look (docs/ecosystem.md). Whether growth repeats per request, and
    how many keys or instances there are, is mostly decided in other modules
    (a singleton made by `main`, keys from configuration), which a one-module
    analysis cannot see. Enable it (`--select MEM108` or `extend-select`)
    to review a service's long-lived state.
    A method that only ever runs once per process (on a singleton) is
    reported too. Plain set-up functions that do not return the logger are
    assumed to run once, and so are methods given the parsed command line
    (`opts`, `args`, `argv`) and class and static methods (a
    `classmethod` that configures logging is set-up code, often guarded by
    a class-level flag in its caller).
    """

    code = "MEM108"
    default = False
    name = "handler-accumulation"
    family = Family.LEAK
    message = (
        "`addHandler` on a shared logger runs per instance or per call and stacks another handler each time: "
        "configure handlers once at start-up, guard with `if not logger.handlers`, or `removeHandler` when done"
    )
    triggers = ("addHandler",)
    seed = "a logging handler added again on every call, to a logger that keeps them all"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._frames: dict[cst.FunctionDef, _Frame] = {}  # every function, by its node
        self._class_guarded: set[cst.ClassDef] = set()  # classes mentioning `handlers`, `removeHandler`...
        self._self_loggers: dict[cst.ClassDef, set[str]] = {}  # attributes bound to a fixed getLogger(...)
        self._module_loggers = {
            target.target.value
            for statement in context.module.body if isinstance(statement, cst.SimpleStatementLine)
            for small in statement.body if isinstance(small, cst.Assign) and isinstance(small.value, cst.Call)
            and self._fixed_logger(small.value)
            for target in small.targets if isinstance(target.target, cst.Name)
        }
        self._candidates: list[tuple[cst.Call, _Frame, str]] = []
        self._import_calls: set[str] = set()

    def _frame(self) -> _Frame | None:
        """The innermost function's frame (None outside functions)."""
        function = self.context.where.function
        return None if function is None else self._frames[function]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        owner = defining_class(self.context.where.definitions())
        if owner is not None and (self._class_level(node) or _handles_command_line(node)):
            owner = None  # not per instance: judged like a function
        self._frames[node] = _Frame(node, owner)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        # The whole function is seen: keep the additions no guard covers.
        frame = self._frames[original_node]
        if not frame.adds or _mentions_guard(frame.node):
            return
        for call, returned, parents in frame.adds:
            if not _guarded(frame.node, call, parents):
                self._candidates.append((call, frame, "returned" if returned else ""))

    def visit_Assign(self, node: cst.Assign) -> None:
        if not isinstance(node.value, cst.Call) or not self._fixed_logger(node.value):
            return
        frame = self._frame()
        cls = self.context.where.cls
        if frame is None:
            if cls is not None:
                # `log = logging.getLogger("svc")` in a class body: `self.log` is shared by every instance.
                self._self_loggers.setdefault(cls, set()).update(
                    t.target.value for t in node.targets if isinstance(t.target, cst.Name)
                )
            return
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                frame.loggers.add(target.target.value)
            elif isinstance(target.target, cst.Attribute) and cls is not None:
                self._self_loggers.setdefault(cls, set()).add(target.target.attr.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        frame = self._frame()
        if frame is None:
            if isinstance(func, cst.Name):
                self._import_calls.add(func.value)  # `logger = create_logger()` runs once, at import
            return
        if not isinstance(func, cst.Attribute) or func.attr.value != "addHandler":
            return
        parents = self.context.where.parents
        receiver = func.value
        if isinstance(receiver, cst.Call) and self._fixed_logger(receiver):
            frame.adds.append((node, False, parents))
        elif isinstance(receiver, cst.Name):
            shared = receiver.value in frame.loggers or (
                receiver.value in self._module_loggers and self.context.names.is_module_level(receiver.value)
            )
            if shared:
                frame.adds.append((node, _returns(frame.node, receiver.value), parents))
        elif isinstance(receiver, cst.Attribute) and isinstance(receiver.value, cst.Name) and frame.owner is not None:
            # `self.log.addHandler(...)`: decided in finish(), once every
            # method of the class has shown whether `self.log` is from getLogger.
            frame.adds.append((node, False, parents))
        if isinstance(receiver, cst.Attribute) and self.context.names.qualified_name(receiver) == "logging.root":
            frame.adds.append((node, False, parents))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in _GUARDS:
            cls = self.context.where.cls
            if cls is not None:
                self._class_guarded.add(cls)

    def _class_level(self, method: cst.FunctionDef) -> bool:
        """A ``classmethod``/``staticmethod``: no instance, so no handler per
        instance (``__new__`` still runs once per instance)."""
        kind = method_kind(method, True, self.context.names)
        return kind in (MethodKind.CLASS, MethodKind.STATIC) and method.name.value != "__new__"

    def _fixed_logger(self, call: cst.Call) -> bool:
        """``logging.getLogger(<fixed name>)``: the same shared logger on every call."""
        if not is_get_logger(call, self.context.names):
            return False
        return not call.args or not per_call_parts(call.args[0].value)

    def finish(self) -> None:
        for call, frame, returned in self._candidates:
            schedule = schedule_of(self.context.module)  # computed once per module, when there is a candidate
            if schedule.runs_once(frame.node):
                continue  # start-up code
            if frame.owner is not None and schedule.single_instance(frame.owner) \
                    and runs_once(frame.node, call, None, per_instance=True):
                continue  # once per instance, and there is one instance
            receiver = call.func.value  # type: ignore[attr-defined]
            if frame.owner is not None:
                if frame.owner in self._class_guarded:
                    continue
                if isinstance(receiver, cst.Attribute) and receiver.attr.value not in self._self_loggers.get(frame.owner, ()) \
                        and self.context.names.qualified_name(receiver) != "logging.root":
                    continue
                self.report(call)
            elif returned and frame.node.name.value not in self._import_calls:
                self.report(call)
            elif schedule.runs_repeatedly(frame.node):  # a handler, a wrapper, a callback
                self.report(call)


def _handles_command_line(method: cst.FunctionDef) -> bool:
    """A method given the parsed command line (``process_options(self, args, opts)``):
    it runs once per process, however its class is instantiated."""
    return any(param.name.value in _COMMAND_LINE for param in method.params.params)


def _mentions_guard(function: cst.FunctionDef) -> bool:
    """Handler checks, removals, or a `global` once-only flag anywhere in the function."""
    for node in iter_nodes(function.body):
        if isinstance(node, cst.Global):
            return True
        if isinstance(node, cst.Attribute) and node.attr.value in _GUARDS:
            return True
    return False


def _guarded(function: cst.FunctionDef, call: cst.Call, parents: Path) -> bool:
    """Under an ``if`` that inspects the logger (``if not has_handler(log):``)
    or under a once-only flag (``parents``: the call's ancestors)."""
    receiver = dotted_name(call.func.value) if isinstance(call.func, cst.Attribute) else None  # type: ignore[union-attr]
    if receiver is not None:
        for statement in enclosing_ifs(function.body, call, parents):
            if any(dotted_name(node) == receiver for node in (statement.test, *iter_nodes(statement.test))
                   if isinstance(node, (cst.Name, cst.Attribute))):
                return True
    return runs_once(function, call, parents) or never_runs(function, call, parents)


def _returns(function: cst.FunctionDef, name: str) -> bool:
    return any(
        isinstance(node, cst.Return) and isinstance(node.value, cst.Name) and node.value.value == name
        for node in iter_nodes(function.body, into_functions=False)
    )
