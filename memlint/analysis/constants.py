"""Constant folding of integer arithmetic: ``10 * 1024 ** 3``, ``1 << 33``, ``int(1e10)``."""

from __future__ import annotations

import operator
from typing import Callable, Final

import libcst as cst

# Bigger results are not folded further: they only need to be "huge".
_CAP: Final = 1 << 128

_BINARY: Final[dict[type, Callable[[int, int], int]]] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.FloorDivide: operator.floordiv,
    cst.Divide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.LeftShift: operator.lshift,
    cst.RightShift: operator.rshift,
    cst.BitOr: operator.or_,
    cst.BitAnd: operator.and_,
}


def evaluate_number(expr: cst.BaseExpression) -> int | float | None:
    """The value of a constant numeric expression, or None."""
    if isinstance(expr, cst.Integer):
        try:
            return int(expr.value, 0)  # handles 0x, 0o, 0b and underscores
        except ValueError:
            return None
    if isinstance(expr, cst.Float):
        try:
            return float(expr.value.replace("_", ""))
        except ValueError:
            return None
    if isinstance(expr, cst.UnaryOperation):
        value = evaluate_number(expr.expression)
        if value is None:
            return None
        if isinstance(expr.operator, cst.Minus):
            return -value
        if isinstance(expr.operator, cst.Plus):
            return value
        return None
    if isinstance(expr, cst.BinaryOperation):
        left = evaluate_number(expr.left)
        if left is None:
            return None
        right = evaluate_number(expr.right)
        if right is None:
            return None
        return _fold(expr.operator, left, right)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "int" and len(expr.args) == 1:
        value = evaluate_number(expr.args[0].value)
        return int(value) if value is not None else None
    return None


def _fold(op: cst.BaseBinaryOp, left: int | float, right: int | float) -> int | float | None:
    try:
        if isinstance(op, cst.Power):
            if abs(right) > 4096 or (abs(left) > 1 and right > 512):
                return _CAP if left > 1 else None
            result = left**right
        elif isinstance(op, cst.LeftShift):
            if not isinstance(left, int) or not isinstance(right, int) or right > 512 or right < 0:
                return _CAP if isinstance(right, int) and right > 512 else None
            result = left << right
        else:
            function = _BINARY.get(type(op))
            if function is None:
                return None
            if isinstance(op, cst.Divide):
                result = left / right
            elif isinstance(left, float) or isinstance(right, float):
                result = function(left, right) if type(op) not in (cst.LeftShift, cst.RightShift, cst.BitOr, cst.BitAnd) else None  # type: ignore[arg-type]
            else:
                result = function(left, right)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return None
    if result is None or isinstance(result, complex):
        return None
    if abs(result) > _CAP:
        return _CAP if result > 0 else -_CAP
    return result


def evaluate_int(expr: cst.BaseExpression) -> int | None:
    """The value of a constant integer expression (floats truncated), or None."""
    value = evaluate_number(expr)
    if value is None:
        return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return int(value)
    return value
