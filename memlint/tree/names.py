"""Import and alias resolution: what a name in the code refers to.

Built during the engine's single walk (the tracker is visited before the
rules on the way down and after them on the way up), so a rule asking about a
node sees the scopes that enclose it. This replaces libcst's ScopeProvider
and QualifiedNameProvider, which cost 4-7 parses' worth of time per file.

Qualified names are dotted strings: ``builtins.open``, ``io.open``,
``tempfile.NamedTemporaryFile``. A call inside a chain is spelt ``()``:
``pathlib.Path(p).open`` resolves to ``pathlib.Path().open``.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Final

import libcst as cst

from memlint.tree.nodes import dotted_name, parameters, target_names

_BUILTINS: Final = frozenset(dir(builtins))
# A name bound by something other than an import: it shadows whatever an
# outer scope or the builtins would give it.
LOCAL: Final = "<local>"


class Scope:
    """Bindings of one module, class, function or lambda."""

    __slots__ = ("bindings", "parent", "is_class", "node")

    def __init__(self, node: cst.CSTNode | None, parent: Scope | None, is_class: bool = False) -> None:
        self.node = node
        self.parent = parent
        self.is_class = is_class
        self.bindings: dict[str, str] = {}

    def lookup(self, name: str) -> str | None:
        scope: Scope | None = self
        first = True
        while scope is not None:
            # Class bodies are not enclosing scopes for the functions inside them.
            if first or not scope.is_class:
                found = scope.bindings.get(name)
                if found is not None:
                    return found
            first = False
            scope = scope.parent
        return None


def _import_alias_names(alias: cst.ImportAlias) -> tuple[str, str]:
    """(bound local name, qualified name) for ``import a.b [as c]``."""
    full = _module_name(alias.name)
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value, full
    return full.split(".")[0], full.split(".")[0]


def _module_name(node: cst.BaseExpression) -> str:
    return dotted_name(node) or ""


class NameTracker:
    """Scopes and import aliases, maintained during the walk."""

    def __init__(self, module: cst.Module) -> None:
        self.module_scope = Scope(module, None)
        self.current = self.module_scope
        self._scope_of: dict[cst.CSTNode, Scope] = {module: self.module_scope}
        self._prescan(module.body, self.module_scope)

    # -- the walk -------------------------------------------------------
    def on_visit(self, node: cst.CSTNode) -> None:
        kind = type(node)
        if kind is cst.FunctionDef or kind is cst.Lambda:
            self._bind(node, self.current)  # a def's own name lives outside it
            scope = Scope(node, self.current)
            for param in parameters(node.params):  # type: ignore[attr-defined]
                scope.bindings[param.name.value] = LOCAL
            self._enter(node, scope)
        elif kind is cst.ClassDef:
            self._bind(node, self.current)
            self._enter(node, Scope(node, self.current, is_class=True))
        elif self.current is not self.module_scope:
            # Module-level statements were prescanned; function bodies are
            # bound as the walk reaches them.
            self._bind(node, self.current)

    def on_leave(self, node: cst.CSTNode) -> None:
        if self.current.node is node and self.current.parent is not None:
            self.current = self.current.parent

    def _enter(self, node: cst.CSTNode, scope: Scope) -> None:
        self._scope_of[node] = scope
        self.current = scope

    def _bind(self, node: cst.CSTNode, scope: Scope) -> None:
        kind = type(node)
        if kind is cst.Import:
            for alias in node.names:  # type: ignore[attr-defined]
                local, qualified = _import_alias_names(alias)
                scope.bindings[local] = qualified
        elif kind is cst.ImportFrom:
            self._bind_import_from(node, scope)  # type: ignore[arg-type]
        elif kind is cst.Assign:
            for target in node.targets:  # type: ignore[attr-defined]
                for name in target_names(target.target):
                    scope.bindings.setdefault(name, LOCAL)
        elif kind is cst.AnnAssign or kind is cst.AugAssign:
            for name in target_names(node.target):  # type: ignore[attr-defined]
                scope.bindings.setdefault(name, LOCAL)
        elif kind is cst.For or kind is cst.CompFor:
            for name in target_names(node.target):  # type: ignore[attr-defined]
                scope.bindings.setdefault(name, LOCAL)
        elif kind is cst.AsName:
            for name in target_names(node.name):  # type: ignore[attr-defined]
                scope.bindings.setdefault(name, LOCAL)
        elif kind is cst.NamedExpr:
            for name in target_names(node.target):  # type: ignore[attr-defined]
                scope.bindings.setdefault(name, LOCAL)
        elif kind is cst.FunctionDef or kind is cst.ClassDef:
            scope.bindings[node.name.value] = LOCAL  # type: ignore[attr-defined]

    def _bind_import_from(self, node: cst.ImportFrom, scope: Scope) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        base = "." * len(node.relative) + (_module_name(node.module) if node.module else "")
        for alias in node.names:
            name = _module_name(alias.name)
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            scope.bindings[local] = f"{base}.{name}" if base and not base.endswith(".") else base + name

    def _prescan(self, body: Iterable[cst.CSTNode], scope: Scope) -> None:
        """Bind module-level names before the walk, so that functions defined
        above an import (or a shadowing assignment) still resolve it."""
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self._bind(small, scope)
            elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                self._bind(statement, scope)
            elif isinstance(statement, cst.If):
                self._prescan(statement.body.body, scope)
                orelse = statement.orelse
                while orelse is not None:
                    self._prescan(orelse.body.body, scope)
                    orelse = orelse.orelse if isinstance(orelse, cst.If) else None
            elif isinstance(statement, cst.Try):
                self._prescan(statement.body.body, scope)
                for handler in statement.handlers:
                    self._prescan(handler.body.body, scope)
                for extra in (statement.orelse, statement.finalbody):
                    if extra is not None:
                        self._prescan(extra.body.body, scope)
            elif isinstance(statement, (cst.With, cst.For, cst.While)):
                self._prescan(statement.body.body, scope)

    # -- queries --------------------------------------------------------
    def scope_of(self, node: cst.CSTNode) -> Scope | None:
        """The scope a function, lambda, class or the module opens."""
        return self._scope_of.get(node)

    def qualified_name(self, expr: cst.BaseExpression, scope: Scope | None = None) -> str | None:
        """What ``expr`` refers to, resolved through imports and aliases.

        Returns None for local variables, parameters and anything unknown.
        """
        suffix: list[str] = []
        while True:
            if isinstance(expr, cst.Attribute):
                suffix.append(expr.attr.value)
                expr = expr.value
            elif isinstance(expr, cst.Call):
                suffix.append("()")
                expr = expr.func
            else:
                break
        if not isinstance(expr, cst.Name):
            return None
        root = self.resolve_name(expr.value, scope)
        if root is None:
            return None
        out = root
        for part in reversed(suffix):
            out = out + part if part == "()" else f"{out}.{part}"
        return out

    def resolve_name(self, name: str, scope: Scope | None = None) -> str | None:
        found = (scope or self.current).lookup(name)
        if found is None:
            return f"builtins.{name}" if name in _BUILTINS else None
        if found == LOCAL:
            return None
        return found

    def binding_scope(self, name: str, scope: Scope | None = None) -> Scope | None:
        """The scope whose binding of ``name`` is visible from ``scope``
        (None: a builtin or unknown name). Class bodies are skipped as
        ``lookup`` skips them."""
        current: Scope | None = scope or self.current
        first = True
        while current is not None:
            if (first or not current.is_class) and name in current.bindings:
                return current
            first = False
            current = current.parent
        return None

    def is_module_level(self, name: str, scope: Scope | None = None) -> bool:
        """True when ``name`` (seen from ``scope``) is a module-level binding."""
        return self.binding_scope(name, scope) is self.module_scope

    def is_local(self, name: str, scope: Scope | None = None) -> bool:
        """True when ``name`` is bound by assignment or as a parameter."""
        return (scope or self.current).lookup(name) == LOCAL

    def call_name(self, call: cst.Call, scope: Scope | None = None) -> str | None:
        """Qualified name of the called function of ``call``."""
        return self.qualified_name(call.func, scope)
