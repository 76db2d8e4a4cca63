"""Questions the lifetime walk asks of the syntax alone: which names a
subtree reads, which expressions a node holds (names a target binds:
``memlint.tree.nodes.target_names``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from memlint.rules.resource._lifetime.tables import STREAM_METHODS
from memlint.tree.walk import children, iter_nodes


def unpacked_names(target: cst.BaseExpression) -> list[str] | None:
    """``a, b`` / ``[a, b]`` of plain names (no starred element), else None."""
    if not isinstance(target, (cst.Tuple, cst.List)) or not target.elements:
        return None
    names = [element.value.value for element in target.elements
             if isinstance(element, cst.Element) and isinstance(element.value, cst.Name)]
    return names if len(names) == len(target.elements) else None


def bare_names(expr: cst.CSTNode) -> set[str]:
    """Names used as values in ``expr`` (not as ``x.attr`` receivers)."""
    found: set[str] = set()
    if isinstance(expr, cst.Name):
        found.add(expr.value)
    elif isinstance(expr, cst.Attribute):
        pass
    elif isinstance(expr, cst.Call):
        for arg in expr.args:
            found |= bare_names(arg.value)
    else:
        for child in children(expr):
            found |= bare_names(child)
    return found


def names_in(node: cst.CSTNode, skip: cst.CSTNode | None = None) -> Iterator[str]:
    """Every identifier read or written inside ``node``, outside the subtree ``skip``."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current is skip:
            continue
        if isinstance(current, cst.Name):
            yield current.value
        stack.extend(children(current))


def untracked_names(body: Sequence[cst.CSTNode]) -> frozenset[str]:
    """Names of a body the walk must not follow: ``global``/``nonlocal``
    names and names a nested function, lambda or class reads (a closure may
    close the object later, or keep it)."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Global, cst.Nonlocal)):
            found.update(item.name.value for item in node.names)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            found.update(names_in(node))
            continue
        stack.extend(children(node))
    return frozenset(found)


def stream_names(body: Sequence[cst.CSTNode]) -> frozenset[str]:
    """Names some file-only method is called on (``f.seek(0)``): streams."""
    return frozenset(
        node.value.value
        for statement in body for node in iter_nodes(statement, include_self=True)
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.attr.value in STREAM_METHODS
    )


def node_ids(node: cst.CSTNode) -> Iterator[int]:
    """The ids of ``node`` and of every node under it (creations are keyed by id)."""
    return (id(current) for current in iter_nodes(node, include_self=True))


def child_expressions(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """The nearest expression descendants of ``node`` (through Arg, Element...)."""
    for child in children(node):
        if isinstance(child, cst.BaseExpression):
            yield child
        elif not isinstance(child, (cst.BaseSuite, cst.BaseStatement)):
            yield from child_expressions(child)
