"""The shapes of single nodes: dotted names, assignment targets, parameters.

Every rule and analysis reads these the same way, so they are written once.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst


def dotted_name(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None (no resolution)."""
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if isinstance(expr, cst.Name):
        parts.append(expr.value)
        return ".".join(reversed(parts))
    return None


def last_segment(func: cst.BaseExpression) -> str:
    """``raises`` for ``pytest.raises`` and for ``raises``; empty for anything else
    (the name a call's callee ends with, unresolved)."""
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def target_leaves(target: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """What an assignment target stores into, unpacked: ``a, (b[0], *c.d)``
    gives ``a``, ``b[0]`` and ``c.d``."""
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from target_leaves(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from target_leaves(target.value)
    else:
        yield target


def target_names(target: cst.BaseExpression) -> list[str]:
    """The plain names an assignment target binds (``a``, ``a, b``, ``*rest``)."""
    return [leaf.value for leaf in target_leaves(target) if isinstance(leaf, cst.Name)]


def parameters(params: cst.Parameters) -> Iterator[cst.Param]:
    """Every parameter, in order: positional-only, ordinary, ``*args``,
    keyword-only, ``**kwargs``."""
    yield from params.posonly_params
    yield from params.params
    if isinstance(params.star_arg, cst.Param):
        yield params.star_arg
    yield from params.kwonly_params
    if isinstance(params.star_kwarg, cst.Param):
        yield params.star_kwarg


def positional_parameters(function: cst.FunctionDef | cst.Lambda) -> list[cst.Param]:
    """Positional-only and ordinary parameters, in order (``self`` first in a method)."""
    return [*function.params.posonly_params, *function.params.params]


def first_parameter(function: cst.FunctionDef | cst.Lambda) -> str | None:
    """The name of the first positional parameter (``self``/``cls`` in a method)."""
    positional = positional_parameters(function)
    return positional[0].name.value if positional else None
