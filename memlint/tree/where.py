"""Where the engine's walk is: the node being visited, its ancestors, and the
functions and classes that enclose it.

The engine's dispatcher keeps one ``Where`` per file and rules ask it, instead
of each rule keeping its own stacks of functions and classes (and re-walking
the module at the end to find a node's ancestors again).

Inside ``visit_X(node)`` and ``leave_X(node)`` the node being visited is
``where.node``; a ``FunctionDef`` or ``ClassDef`` being visited is its own
innermost definition (as a stack pushed in ``visit_FunctionDef`` and popped
in ``leave_FunctionDef`` would have it).
"""

from __future__ import annotations

import libcst as cst

from memlint.tree.names import NameTracker, Scope
from memlint.tree.walk import Path

Definition = cst.FunctionDef | cst.ClassDef


class Where:
    """The walk's position in one file."""

    __slots__ = ("_names", "_stack")

    def __init__(self, names: NameTracker) -> None:
        self._names = names
        self._stack: list[cst.CSTNode] = []

    # -- the engine's side ----------------------------------------------
    def enter(self, node: cst.CSTNode) -> None:
        self._stack.append(node)

    def leave(self) -> None:
        self._stack.pop()

    # -- the rules' side -------------------------------------------------
    @property
    def node(self) -> cst.CSTNode:
        """The node being visited."""
        return self._stack[-1]

    @property
    def parents(self) -> Path:
        """The ancestors of the node being visited, the module first."""
        return tuple(self._stack[:-1])

    @property
    def scope(self) -> Scope:
        """The innermost scope: the module's, or a function's, lambda's or class's."""
        return self._names.current

    @property
    def at_module_level(self) -> bool:
        """Not inside any function, lambda or class."""
        return self._names.current is self._names.module_scope

    def definitions(self) -> tuple[Definition, ...]:
        """The enclosing ``def``s and classes, outermost first (lambdas left out)."""
        found: list[Definition] = []
        scope: Scope | None = self._names.current
        while scope is not None:
            if isinstance(scope.node, (cst.FunctionDef, cst.ClassDef)):
                found.append(scope.node)
            scope = scope.parent
        return tuple(reversed(found))

    def functions(self) -> tuple[cst.FunctionDef, ...]:
        """The enclosing ``def``s, outermost first (classes and lambdas left out)."""
        return tuple(node for node in self.definitions() if isinstance(node, cst.FunctionDef))

    @property
    def function(self) -> cst.FunctionDef | None:
        """The innermost enclosing ``def``, across classes and lambdas."""
        return self._innermost(cst.FunctionDef)  # type: ignore[return-value]

    @property
    def cls(self) -> cst.ClassDef | None:
        """The innermost enclosing class, across functions."""
        return self._innermost(cst.ClassDef)  # type: ignore[return-value]

    @property
    def owner(self) -> Definition | None:
        """The innermost enclosing ``def`` or class (lambdas left out)."""
        return self._innermost((cst.FunctionDef, cst.ClassDef))  # type: ignore[return-value]

    def _innermost(self, kinds: type | tuple[type, ...]) -> cst.CSTNode | None:
        scope: Scope | None = self._names.current
        while scope is not None:
            if isinstance(scope.node, kinds):
                return scope.node
            scope = scope.parent
        return None
