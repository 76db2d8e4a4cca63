"""Constant folding of integer arithmetic (``10 * 1024 ** 3``, ``1 << 33``, ``int(1e10)``) and allocation size estimates."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Callable, Final

import libcst as cst

from memlint.tree.nodes import target_names
from memlint.tree.walk import visit

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


def evaluate_number(expr: cst.BaseExpression, env: Mapping[str, int | float] | None = None) -> int | float | None:
    """The value of a constant numeric expression, or None.

    ``env`` gives the values of names (e.g. module constants); names not in
    it are not constant.
    """
    if isinstance(expr, cst.Name):
        return env.get(expr.value) if env is not None else None
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
        value = evaluate_number(expr.expression, env)
        if value is None:
            return None
        if isinstance(expr.operator, cst.Minus):
            return -value
        if isinstance(expr.operator, cst.Plus):
            return value
        return None
    if isinstance(expr, cst.BinaryOperation):
        left = evaluate_number(expr.left, env)
        if left is None:
            return None
        right = evaluate_number(expr.right, env)
        if right is None:
            return None
        return _fold(expr.operator, left, right)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "int" and len(expr.args) == 1:
        value = evaluate_number(expr.args[0].value, env)
        if value is None or value != value or value in (float("inf"), float("-inf")):
            return None
        return int(value)
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


def evaluate_int(expr: cst.BaseExpression, env: Mapping[str, int | float] | None = None) -> int | None:
    """The value of a constant integer expression (floats truncated), or None."""
    value = evaluate_number(expr, env)
    if value is None:
        return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return int(value)
    return value


def module_constants(module: cst.Module) -> dict[str, int | float]:
    """Module-level names bound exactly once, to a constant number
    (``CHUNK = 64 * 1024``), in source order so later ones may use earlier ones."""
    counts: dict[str, int] = {}
    values: dict[str, cst.BaseExpression] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            for name in _bound_names_of_compound(statement):
                counts[name] = counts.get(name, 2) + 2  # bound in a block: not a constant
            continue
        for small in statement.body:
            if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                for target in targets:
                    if isinstance(target, cst.Name):
                        counts[target.value] = counts.get(target.value, 0) + 1
                        if small.value is not None and not isinstance(small, cst.AugAssign):
                            values[target.value] = small.value
    env: dict[str, int | float] = {}
    for name, expr in values.items():
        if counts.get(name) == 1:
            value = evaluate_number(expr, env)
            if value is not None:
                env[name] = value
    return env


def _bound_names_of_compound(statement: cst.CSTNode) -> list[str]:
    """Names a top-level compound statement binds (def, class, for, with, if...)."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return [statement.name.value]
    found: list[str] = []

    class _Targets(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            found.append(node.name.value)
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            found.append(node.name.value)
            return False

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            found.extend(target_names(node.target))

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            found.extend(target_names(node.target))

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            found.extend(target_names(node.target))

        def visit_For(self, node: cst.For) -> None:
            found.extend(target_names(node.target))

        def visit_AsName(self, node: cst.AsName) -> None:
            found.extend(target_names(node.name))

    visit(statement, _Targets())
    return found


# -- allocation size estimates ----------------------------------------------
# Every list or tuple slot is a pointer; `list(range(n))` also creates an int
# object (28 bytes) per element.
POINTER_BYTES: Final = 8
INT_OBJECT_BYTES: Final = 28
ARRAY_ITEMSIZE: Final = {
    "b": 1, "B": 1, "u": 4, "h": 2, "H": 2, "i": 4, "I": 4, "l": 8, "L": 8, "q": 8, "Q": 8, "f": 4, "d": 8, "w": 4,
}
NUMPY_DTYPE_BYTES: Final = {
    "bool": 1, "bool_": 1, "int8": 1, "uint8": 1, "byte": 1, "ubyte": 1, "b": 1, "B": 1, "i1": 1, "u1": 1, "?": 1,
    "int16": 2, "uint16": 2, "float16": 2, "half": 2, "short": 2, "ushort": 2, "i2": 2, "u2": 2, "f2": 2, "h": 2, "H": 2, "e": 2,
    "int32": 4, "uint32": 4, "float32": 4, "single": 4, "intc": 4, "uintc": 4, "i4": 4, "u4": 4, "f4": 4, "i": 4, "I": 4, "f": 4,
    "int64": 8, "uint64": 8, "float64": 8, "double": 8, "int": 8, "float": 8, "int_": 8, "float_": 8, "intp": 8, "uintp": 8,
    "longlong": 8, "ulonglong": 8, "complex64": 8, "i8": 8, "u8": 8, "f8": 8, "c8": 8, "l": 8, "L": 8, "q": 8, "Q": 8, "d": 8,
    "complex128": 16, "complex": 16, "complex_": 16, "cdouble": 16, "longdouble": 16, "float128": 16, "c16": 16, "f16": 16, "g": 16, "D": 16,
    "complex256": 32, "c32": 32, "G": 32,
}
_NUMPY_FILL: Final = {"numpy.zeros": 1, "numpy.ones": 1, "numpy.empty": 1, "numpy.full": 2, "numpy.ndarray": 1}
_RANDOM_BYTES: Final = frozenset({"os.urandom", "secrets.token_bytes", "random.randbytes"})

QualifiedName = Callable[[cst.BaseExpression], "str | None"]


def allocation_bytes(
    expr: cst.BaseExpression, qualified_name: QualifiedName, env: Mapping[str, int | float] | None = None
) -> tuple[int, list[cst.CSTNode]] | None:
    """An estimate of the bytes ``expr`` allocates at once when its size is a
    constant: ``bytearray(n)``, ``b"\\0" * n``, ``[0] * n`` (8 bytes a slot),
    ``"x" * n``, ``list(range(n))``, ``[0 for _ in range(n)]``, numpy
    ``zeros``/``ones``/``empty``/``full`` with a constant shape and dtype,
    ``array.array``. Returns (bytes, inner nodes already accounted for), or
    None when ``expr`` is not such an allocation.

    ``qualified_name`` resolves a callee (``NameTracker.qualified_name``).
    """
    if isinstance(expr, cst.BinaryOperation):
        sequence = _sequence(expr, qualified_name, env)
        if sequence is None:
            return None
        item_bytes, count, inner = sequence
        return item_bytes * count, inner
    if isinstance(expr, cst.ListComp):
        return _comprehension_bytes(expr, qualified_name, env)
    if isinstance(expr, cst.Call):
        return _call_bytes(expr, qualified_name, env)
    return None


def _positional(call: cst.Call, index: int, keyword: str | None = None) -> cst.BaseExpression | None:
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if index < len(positional):
        return positional[index].value
    for arg in call.args:
        if keyword is not None and arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    return None


def _call_bytes(call: cst.Call, qualified_name: QualifiedName, env: Mapping[str, int | float] | None) -> tuple[int, list[cst.CSTNode]] | None:
    name = qualified_name(call.func)
    if name in ("builtins.bytearray", "builtins.bytes") or name in _RANDOM_BYTES:
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            return None
        size = evaluate_int(call.args[0].value, env)
        return (size, []) if size is not None and size > 0 else None
    if name in ("builtins.list", "builtins.tuple"):
        if len(call.args) != 1:
            return None
        count = _range_length(call.args[0].value, qualified_name, env)
        return (count * (POINTER_BYTES + INT_OBJECT_BYTES), []) if count is not None else None
    if name in _NUMPY_FILL:
        return _numpy_bytes(call, name, env)
    if name == "array.array":
        sequence = _array_sequence(call, qualified_name, env)
        return (sequence[0] * sequence[1], sequence[2]) if sequence is not None else None
    return None


def _numpy_bytes(call: cst.Call, name: str, env: Mapping[str, int | float] | None) -> tuple[int, list[cst.CSTNode]] | None:
    shape = _positional(call, 0, "shape")
    if shape is None:
        return None
    if isinstance(shape, (cst.Tuple, cst.List)):
        if not shape.elements:
            return None
        count = 1
        for element in shape.elements:
            size = evaluate_int(element.value, env)
            if size is None or size < 0:
                return None
            count *= size
    else:
        size = evaluate_int(shape, env)
        if size is None or size < 0:
            return None
        count = size
    dtype = _positional(call, _NUMPY_FILL[name], "dtype")
    # No dtype: float64. A dtype that is not a constant: assume the smallest.
    item = 8 if dtype is None else (_dtype_bytes(dtype) or 1)
    return count * item, []


def _dtype_bytes(dtype: cst.BaseExpression) -> int | None:
    if isinstance(dtype, cst.SimpleString):
        value = dtype.evaluated_value
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        return NUMPY_DTYPE_BYTES.get(text.lstrip("<>=|"))
    if isinstance(dtype, cst.Attribute):
        return NUMPY_DTYPE_BYTES.get(dtype.attr.value)
    if isinstance(dtype, cst.Name):
        return NUMPY_DTYPE_BYTES.get(dtype.value)
    return None


def _range_length(expr: cst.BaseExpression, qualified_name: QualifiedName, env: Mapping[str, int | float] | None) -> int | None:
    """``len(range(...))`` for constant bounds, else None."""
    if not isinstance(expr, cst.Call) or qualified_name(expr.func) != "builtins.range" or not 1 <= len(expr.args) <= 3:
        return None
    if any(a.keyword is not None or a.star for a in expr.args):
        return None
    bounds = [evaluate_int(a.value, env) for a in expr.args]
    if any(b is None for b in bounds):
        return None
    start, stop, step = (0, bounds[0], 1) if len(bounds) == 1 else (bounds[0], bounds[1], bounds[2] if len(bounds) == 3 else 1)
    assert start is not None and stop is not None and step is not None
    if step == 0:
        return None
    return max(0, -((start - stop) // step)) if step > 0 else max(0, -((stop - start) // -step))


def _comprehension_bytes(expr: cst.ListComp, qualified_name: QualifiedName, env: Mapping[str, int | float] | None) -> tuple[int, list[cst.CSTNode]] | None:
    loop = expr.for_in
    if loop.ifs or loop.inner_for_in is not None or loop.asynchronous is not None:
        return None
    count = _range_length(loop.iter, qualified_name, env)
    if count is None:
        return None
    element = allocation_bytes(expr.elt, qualified_name, env)
    each = POINTER_BYTES + (element[0] if element is not None else 0)
    return count * each, [expr.elt]


def _sequence(
    expr: cst.BaseExpression, qualified_name: QualifiedName, env: Mapping[str, int | float] | None
) -> tuple[int, int, list[cst.CSTNode]] | None:
    """(bytes per item, item count, inner nodes) of a repeated sequence:
    ``[0] * n``, ``n * b"\\0"``, ``"ab" * n * m``, ``array.array("d", [0.0]) * n``."""
    if isinstance(expr, (cst.List, cst.Tuple)):
        if any(isinstance(e, cst.StarredElement) for e in expr.elements):
            return None
        return POINTER_BYTES, len(expr.elements), []
    if isinstance(expr, cst.SimpleString):
        try:
            value = expr.evaluated_value
        except Exception:  # noqa: BLE001 - an odd literal is just not a sequence we know
            return None
        if isinstance(value, bytes):
            return 1, len(value), []
        widest = max((ord(c) for c in value), default=0)
        return (1 if widest < 256 else 2 if widest < 65536 else 4), len(value), []
    if isinstance(expr, cst.Call) and qualified_name(expr.func) == "array.array":
        return _array_sequence(expr, qualified_name, env)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Multiply):
        for seq_side, count_side in ((expr.left, expr.right), (expr.right, expr.left)):
            sequence = _sequence(seq_side, qualified_name, env)
            if sequence is None:
                continue
            times = evaluate_int(count_side, env)
            if times is None or times <= 0:
                return None
            item, count, inner = sequence
            return item, count * times, [*inner, seq_side]
    return None


def _array_sequence(
    call: cst.Call, qualified_name: QualifiedName, env: Mapping[str, int | float] | None
) -> tuple[int, int, list[cst.CSTNode]] | None:
    typecode = _positional(call, 0, "typecode")
    if not isinstance(typecode, cst.SimpleString):
        return None
    value = typecode.evaluated_value
    item = ARRAY_ITEMSIZE.get(value.decode("latin-1") if isinstance(value, bytes) else value)
    if item is None:
        return None
    initializer = _positional(call, 1, "initializer")
    if initializer is None:
        return item, 0, []
    count = _range_length(initializer, qualified_name, env)
    if count is None:
        sequence = _sequence(initializer, qualified_name, env)
        if sequence is not None:
            count = sequence[1]
        elif isinstance(initializer, cst.Call) and qualified_name(initializer.func) in ("builtins.bytes", "builtins.bytearray"):
            size = _call_bytes(initializer, qualified_name, env)
            count = size[0] if size is not None else None
    if count is None:
        return None
    return item, count, [initializer]


def fold(op: cst.BaseBinaryOp, left: int | float, right: int | float) -> int | float | None:
    """Apply a binary operator to two folded values (None when undefined)."""
    return _fold(op, left, right)
