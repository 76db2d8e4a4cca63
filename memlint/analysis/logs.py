"""Logging: which calls return a shared ``logging.Logger``, and whether a logger name is per-call data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import libcst as cst

from memlint.analysis.naming import identifiers, per_call_identifier

if TYPE_CHECKING:
    from memlint.tree.names import NameTracker

GET_LOGGER: Final = frozenset({"logging.getLogger", "logging.getLoggerClass().manager.getLogger"})
# Methods of a logger that format a message (and keep no reference to its arguments).
LOG_METHODS: Final = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})
# Attribute names whose values come from a fixed set (one per module,
# class or function in the program), so loggers named after them are bounded.
_STATIC_ATTRIBUTES: Final = frozenset({"__name__", "__qualname__", "__module__", "name", "__class__"})
_STATIC_NAMES: Final = frozenset({"__name__", "__package__", "__qualname__", "__module__"})


def is_get_logger(call: cst.Call, names: NameTracker) -> bool:
    """``logging.getLogger(...)`` resolved through imports and aliases."""
    return names.call_name(call) in GET_LOGGER


def per_call_parts(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The pieces of a logger-name expression that vary per call.

    f-strings, ``%``, ``+`` and ``.format`` built from variables count;
    ``__name__``, ``type(self).__name__``, ``cls.__qualname__`` and
    constants do not: their values come from a fixed set. A bare variable is
    not counted either: it may well be a fixed module name passed around.
    """
    if isinstance(expr, cst.FormattedString):
        return [part for p in expr.parts if isinstance(p, cst.FormattedStringExpression)
                for part in dynamic_parts(p.expression)]
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Modulo, cst.Add)):
        return dynamic_parts(expr.left) + dynamic_parts(expr.right)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "format" \
            and isinstance(expr.func.value, (cst.SimpleString, cst.ConcatenatedString)):
        return [part for arg in expr.args for part in dynamic_parts(arg.value)]
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "join":
        return [part for arg in expr.args for part in dynamic_parts(arg.value)]
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("str", "repr", "id", "hex"):
        return dynamic_parts(expr)  # `getLogger(str(id(conn)))`
    return []


def dynamic_parts(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The pieces of ``expr`` that vary, a plain variable included (unlike
    ``per_call_parts``): for a suffix that is appended as it is, such as
    ``logger.getChild(suffix)``. ``__name__``-like attributes stay fixed."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.Integer)):
        return []
    if isinstance(expr, cst.Name):
        return [] if expr.value in _STATIC_NAMES else [expr]
    if isinstance(expr, cst.Attribute):
        return [] if expr.attr.value in _STATIC_ATTRIBUTES else [expr]
    if isinstance(expr, (cst.Tuple, cst.List)):
        return [part for element in expr.elements for part in dynamic_parts(element.value)]
    if isinstance(expr, (cst.FormattedString, cst.BinaryOperation)) or (
        isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in ("format", "join")
    ):
        return per_call_parts(expr)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("str", "repr") and expr.args:
        return dynamic_parts(expr.args[0].value)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "id":
        return [expr]
    return [expr]


_PER_CALL_CALLS: Final = ("id", "uuid", "uuid1", "uuid4", "time", "monotonic", "getpid", "get_ident", "random", "now")


def looks_per_call(part: cst.BaseExpression) -> bool:
    """Whether a dynamic piece of a logger name is evidently per request or
    per object: ``id(self)``, ``uuid4()``, ``request.id``, ``conn_addr``,
    ``self`` itself (its repr carries an address). Plain names such as
    ``alias`` or ``component`` usually come from a fixed configuration."""
    if isinstance(part, cst.Call):
        func = part.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        return name in _PER_CALL_CALLS
    if isinstance(part, cst.Subscript) or (isinstance(part, cst.Attribute) and isinstance(part.value, cst.Call)):
        # `ids[0]`, `uuid.uuid4().hex`: a piece of a per-call value is per call too.
        if looks_per_call(part.value):
            return True
    if isinstance(part, (cst.Name, cst.Attribute)):
        return any(per_call_identifier(identifier) for identifier in identifiers(part))
    return False
