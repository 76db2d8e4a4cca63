"""Classes that take ownership of a resource on ``self``: does the class's
teardown release it? (MEM201-MEM204, shared by every resource rule.)"""

from __future__ import annotations

import libcst as cst

from memlint.analysis.resources import ResourceKind
from memlint.rules.resource._lifetime.syntax import names_in
from memlint.rules.resource._lifetime.tables import FINISHING_METHODS, HANDOFF_METHODS, TEARDOWN_METHODS
from memlint.tree.walk import children


def class_forgets(classdef: cst.ClassDef, attr: str, kind: ResourceKind, self_name: str = "self") -> bool:
    """True when ``classdef`` has a teardown method and nothing in the class
    releases, hands on or exposes ``self.<attr>``."""
    methods = {
        statement.name.value: statement
        for statement in classdef.body.body
        if isinstance(statement, cst.FunctionDef)
    }
    teardowns = [method for name, method in methods.items() if name in TEARDOWN_METHODS]
    if not teardowns:
        return False
    inherits = any(
        not (isinstance(base.value, cst.Name) and base.value.value in ("object", "ABC", "Protocol"))
        for base in classdef.bases
    )
    if inherits and any(_calls_super(method) for method in teardowns):
        return False  # the base class's teardown may release it by name
    for method in methods.values():
        if _releases_attr(method, attr, kind):
            return False
    return True


def _calls_super(node: cst.CSTNode) -> bool:
    return any(name == "super" for name in names_in(node))


def _releases_attr(node: cst.CSTNode, attr: str, kind: ResourceKind) -> bool:
    """Does ``node`` do anything with ``self.attr`` beyond assigning it,
    reading its non-releasing attributes or testing it? Dynamic attribute
    access (``getattr``, ``vars``, ``__dict__``) counts as yes."""
    stack: list[tuple[cst.CSTNode, cst.CSTNode | None]] = [(node, None)]
    while stack:
        current, parent = stack.pop()
        if isinstance(current, cst.Name) and current.value in ("getattr", "vars", "__dict__", "setattr"):
            return True
        if isinstance(current, cst.Attribute) and current.attr.value == "__dict__":
            return True
        if (
            isinstance(current, cst.Attribute) and current.attr.value == attr
            and isinstance(current.value, cst.Name) and _attr_use_releases(parent, current, kind)
        ):
            return True
        stack.extend((child, current) for child in children(current))
    return False


def _attr_use_releases(parent: cst.CSTNode | None, node: cst.Attribute, kind: ResourceKind) -> bool:
    if isinstance(parent, cst.AssignTarget) and parent.target is node:
        return False
    if isinstance(parent, cst.Attribute) and parent.value is node:
        name = parent.attr.value
        return (
            name in kind.release or name in TEARDOWN_METHODS or name in HANDOFF_METHODS or name in FINISHING_METHODS
        )
    # Tests (`if self.f is not None:`) read it; anything else may hand it on.
    return not isinstance(
        parent, (cst.Comparison, cst.ComparisonTarget, cst.UnaryOperation, cst.If, cst.While, cst.BooleanOperation),
    )
