"""A read-only walk over a libcst tree, in the order libcst's own visitors see it.

``node.visit(visitor)`` is built for transformers: it rebuilds every node it
descends into (a constructor call and a validation per node) and wraps each
child in three helper calls. On the standard library that machinery took as
long as parsing. memlint never changes the tree, so the engine walks it
here: the same nodes, the same order, the same visit/leave pairing, at a
third of the cost.

The order comes from libcst itself. Each node type's
``_visit_and_replace_children`` visits its fields in source order with calls
like ``visit_required(self, "body", self.body, visitor)``; the field names
are read from that method's source once per type. A type whose method cannot
be read (no source shipped) falls back to libcst's ``children``, which is
slower but always right. tests/test_traversal.py checks, node by node on
real code, that both give the same children.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import textwrap
from collections.abc import Callable, Iterator
from typing import Final

import libcst as cst

# A node's ancestors, the root first and the parent last.
Path = tuple[cst.CSTNode, ...]

# libcst's helpers that visit one field of a node; their second argument is
# the field name.
_VISIT_HELPERS = frozenset({
    "visit_required", "visit_optional", "visit_sentinel", "visit_iterable",
    "visit_sequence", "visit_body_iterable", "visit_body_sequence",
})


@functools.cache
def child_fields(kind: type[cst.CSTNode]) -> tuple[str, ...] | None:
    """The fields of ``kind`` that hold child nodes, in visiting order; None
    when libcst's source for the type cannot be read."""
    try:
        source = textwrap.dedent(inspect.getsource(kind._visit_and_replace_children))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return None
    calls = [
        node for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _VISIT_HELPERS
        and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
    ]
    calls.sort(key=lambda call: (call.lineno, call.col_offset))
    fields: list[str] = []
    for call in calls:
        name = call.args[1].value  # type: ignore[attr-defined]
        if name not in fields:
            fields.append(name)
    return tuple(fields)


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The direct children of ``node`` in source order (libcst's ``children``)."""
    fields = child_fields(type(node))
    if fields is None:
        yield from node.children
        return
    for field in fields:
        value = getattr(node, field)
        # Sequences are checked first: isinstance against CSTNode, an ABC, is
        # several times slower than against the concrete tuple and list.
        if isinstance(value, (tuple, list)):
            yield from value
        elif value is not None and value is not cst.MaybeSentinel.DEFAULT:
            yield value


def visit(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for a visitor that only reads: the same
    ``on_visit``/``on_leave`` calls in the same order (``on_leave`` also
    after an ``on_visit`` that returned False), without rebuilding the tree.
    Attribute hooks (``visit_Call_func``) are not called."""
    if visitor.on_visit(node):
        for child in children(node):
            visit(child, visitor)
    visitor.on_leave(node)


def iter_nodes(node: cst.CSTNode, *, into_functions: bool = True, include_self: bool = False) -> Iterator[cst.CSTNode]:
    """Every node under ``node`` (and ``node`` itself first when
    ``include_self``) in source order (pre-order); the insides of nested
    functions, lambdas and classes are skipped unless ``into_functions``."""
    if include_self:
        yield node
    stack = list(reversed(tuple(children(node))))
    while stack:
        child = stack.pop()
        yield child
        if not into_functions and isinstance(child, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        stack.extend(reversed(tuple(children(child))))


# Fields holding only layout (whitespace, commas, parentheses): never a node we look for.
_LAYOUT_FIELDS: Final = frozenset({
    "lpar", "rpar", "comma", "semicolon", "dot", "colon", "equal", "star_tok", "header", "footer",
    "leading_lines", "lines_after_decorators", "trailing_whitespace", "newline", "lbracket", "rbracket",
    "lbrace", "rbrace", "operator", "asynchronous", "whitespace",
})
_FIELDS: dict[type, tuple[str, ...]] = {}


def child_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The syntactic children of ``node``, read straight from its fields.

    ``traversal.children`` without the layout-only fields (whitespace,
    commas, parentheses), in source order.
    """
    kind = type(node)
    names = _FIELDS.get(kind)
    if names is None:
        fields = child_fields(kind) or tuple(f.name for f in dataclasses.fields(node))
        names = tuple(f for f in fields if f not in _LAYOUT_FIELDS and not f.startswith("whitespace"))
        _FIELDS[kind] = names
    out: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(item for item in value if isinstance(item, cst.CSTNode))
    return out


def find_paths(root: cst.CSTNode, wanted: Callable[[cst.CSTNode], bool]) -> Iterator[tuple[cst.CSTNode, Path]]:
    """Every node under ``root`` for which ``wanted`` holds, with its ancestors
    (``root`` first, the parent last). One walk; nested defs included."""
    stack: list[tuple[cst.CSTNode, Path]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if node is not root and wanted(node):
            yield node, path
        child_path = (*path, node)
        stack.extend((child, child_path) for child in reversed(child_nodes(node)))
