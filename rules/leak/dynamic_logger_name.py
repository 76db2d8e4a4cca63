"""MEM106 dynamic-logger-name."""

from __future__ import annotations

import libcst as cst

from memlint.analysis.logs import dynamic_parts, is_get_logger, looks_per_call, per_call_parts
from memlint.analysis.schedule import schedule_of
from memlint.diagnostic import Family
from memlint.options import Option, parse_bool
from memlint.rule import FileContext, Rule
from memlint.tree.walk import iter_nodes


class DynamicLoggerName(Rule):
    """Flags `logging.getLogger` called with a name built from per-call data.

    ## What it does
    Reports `logging.getLogger(name)` (or `name=`) inside a function when
    `name` is an f-string, `%`/`+` concatenation or `str.format` built from
    variables that are evidently per request or per object (`id(...)`,
    `uuid4()`, `request.id`, `user`, `conn`, `addr`, `self`), and
    `logger.getChild(suffix)` when the suffix is such a value or a variable
    named so (`getChild(peer_addr)`). Names built only from constants,
    `__name__` or a class's `__name__`/`__qualname__` are not reported.

    ## Why is this bad?
    `logging` keeps every logger it ever created in `logging.Logger.manager`
    for the life of the process, together with its handlers and filters.
    One logger per request or per object is a leak that never shrinks.

    ## Example
    ```python
    import logging

    def handle(request):
        log = logging.getLogger(f"app.request.{request.id}")
        log.info("handling")
    ```

    ## Use instead
    ```python
    import logging

    logger = logging.getLogger(__name__)

    def handle(request):
        logger.info("handling", extra={"request_id": request.id})
    ```

    ```python
    import logging

    class Worker:
        def __init__(self):
            self.log = logging.getLogger(f"{__name__}.{type(self).__name__}")
    ```

    ## Options
    - `logger-name-any-variable`: also report names built from any variable (default
      false: only evidently per-call values such as `id(...)`, `uuid4()`,
      `request.id`, `user`, `conn`, `addr`, `path`, `self`).

    ## Known limitations
    By default the per-call value is recognised by its spelling; a request
    id held in a variable called `name` is missed unless `logger-name-any-variable` is on.
    """

    code = "MEM106"
    name = "dynamic-logger-name"
    family = Family.LEAK
    message = (
        "`logging.getLogger` with a per-call name creates a logger that the logging manager keeps forever: "
        "use `getLogger(__name__)` and pass the varying value with `extra=` or a `LoggerAdapter`"
    )
    child_message = (
        "`getChild` with a per-call suffix creates a logger that the logging manager keeps forever: "
        "keep one child per component and pass the varying value with `extra=` or a `LoggerAdapter`"
    )
    triggers = ("getLogger", "getChild")
    options = (Option(
        "logger-name-any-variable", False,
        "report names built from any variable, not only from evidently per-call values "
        "(ids, requests, users, connections, addresses, `self`)", parse_bool,
    ),)
    seed = "a logger made for every request, object or connection, kept forever by the logging module"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._constants: frozenset[str] | None = None  # class constants of the module, on first need

    def visit_Call(self, node: cst.Call) -> None:
        # Inside a def (classes in a def too): module-level code and class bodies run once.
        if self.context.where.function is None:
            return
        message = self.message
        if is_get_logger(node, self.context.names):
            name = _argument(node, "name")
            parts = per_call_parts(name) if name is not None else []
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value == "getChild":
            # `logger.getChild(peer_addr)` names a logger `<parent>.<suffix>`: a
            # plain variable as the suffix is the per-peer name itself.
            suffix = _argument(node, "suffix")
            parts = [] if suffix is None else dynamic_parts(suffix)
            message = self.child_message
        else:
            return
        if not parts or not (self.option("logger-name-any-variable") or any(looks_per_call(p) for p in parts)):
            return
        if all(self._class_constant(part) for part in parts):
            return  # `self.key` set only in class bodies: one name per class, a bounded set
        if schedule_of(self.context.module).runs_once(self.context.where.function):
            return  # start-up code: as many loggers as times it runs, once
        self.report(node, message)

    def _class_constant(self, part: cst.BaseExpression) -> bool:
        """``self.key`` / ``cls.key`` where ``key`` is a class constant of the module."""
        if not (isinstance(part, cst.Attribute) and isinstance(part.value, cst.Name)
                and part.value.value in ("self", "cls")):
            return False
        if self._constants is None:
            self._constants = _class_constants(self.context.module)
        return part.attr.value in self._constants


def _class_constants(module: cst.Module) -> frozenset[str]:
    """Attribute names bound in class bodies of the module (``key = "disk"``,
    ``key: str = "dummy"``) and never assigned through an attribute anywhere
    (``self.key = ...``): fixed per class."""
    in_bodies: set[str] = set()
    assigned: set[str] = set()
    for node in iter_nodes(module):
        if isinstance(node, cst.ClassDef) and isinstance(node.body, cst.IndentedBlock):
            for statement in node.body.body:
                if isinstance(statement, cst.SimpleStatementLine):
                    for small in statement.body:
                        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else \
                            [small.target] if isinstance(small, cst.AnnAssign) and small.value is not None else []
                        in_bodies.update(t.value for t in targets if isinstance(t, cst.Name))
        elif isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign)):
            target = node.target
            if isinstance(target, cst.Attribute):
                assigned.add(target.attr.value)
    return frozenset(in_bodies - assigned)


def _argument(call: cst.Call, keyword: str) -> cst.BaseExpression | None:
    """The first positional argument, or the one passed as ``keyword=``."""
    for position, arg in enumerate(call.args):
        if arg.keyword is None and arg.star == "" and position == 0:
            return arg.value
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    return None
