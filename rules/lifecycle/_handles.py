"""Handle fate: what becomes of the object a call returns (a thread, timer, task).

Shared by the lifecycle rules (MEM301-MEM303). A handle is *dropped* (the
result is discarded, or kept in a local that is only started), *closed*
(``join``/``cancel``/... is called on it), *kept* in an attribute or a global,
put in a *container*, *awaited*, or *escapes* (returned, passed on: unknown).
Resources (files, sockets) have their own analysis in ``lifetime.py``; this
one is about things that run on their own once started.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

import libcst as cst

from memlint.analysis.logs import LOG_METHODS
from memlint.analysis.raising import expects_raise
from memlint.tree.names import dotted_name
from memlint.tree.walk import Path, find_paths


class Fate(Enum):
    DROPPED = "dropped"  # nobody keeps the handle
    CLOSED = "closed"  # a closer (join/cancel) is called on the local handle
    AWAITED = "awaited"
    ATTRIBUTE = "attribute"  # stored as ``obj.attr``
    GLOBAL = "global"  # stored in a module global (``global`` statement)
    CONTAINER = "container"  # ``xs.add(h)`` / ``xs.append(h)``
    ESCAPED = "escaped"  # returned, passed on, stored elsewhere: unknown


@dataclass(frozen=True, slots=True)
class HandleFate:
    fate: Fate
    # the attribute name (ATTRIBUTE), the container's dotted text (CONTAINER),
    # the local/global name (DROPPED/CLOSED/GLOBAL via a name), else None
    name: str | None = None
    receiver: str | None = None  # ATTRIBUTE: dotted text of the object (``self``)


# Uses of a thread/timer/task handle that neither keep nor stop it.
NEUTRAL_USES: frozenset[str] = frozenset({
    "start", "daemon", "setDaemon", "name", "setName", "is_alive", "isAlive", "ident",
    "native_id", "getName", "isDaemon", "set_name", "get_name",
})
GROWERS: frozenset[str] = frozenset({"add", "append", "appendleft"})
# Calls that only format their arguments for display and keep no reference:
# `print("armed", h)`, `str(h)`, `logger.debug("timer %s", h)`.
_DISPLAY_FUNCTIONS: Final = frozenset({"print", "str", "repr", "format"})


def _unwrap_start(node: cst.CSTNode, path: Path) -> tuple[cst.CSTNode, Path, bool]:
    """``Thread(...).start()``: continue from the ``start()`` call."""
    if len(path) >= 2:
        attribute, call = path[-1], path[-2]
        if (isinstance(attribute, cst.Attribute) and attribute.value is node and attribute.attr.value == "start"
                and isinstance(call, cst.Call) and call.func is attribute):
            return call, path[:-2], True
    return node, path, False


def _declared_global(function: cst.CSTNode, name: str) -> bool:
    return any(
        isinstance(node, cst.Global) and any(item.name.value == name for item in node.names)
        for node, _ in find_paths(function, lambda n: isinstance(n, cst.Global))
    )


def handle_fate(
    call: cst.CSTNode,
    path: Path,
    closers: Collection[str] = ("join", "cancel"),
    neutral: Collection[str] = NEUTRAL_USES,
    displayed_is_neutral: bool = False,
) -> HandleFate:
    """What becomes of the value of ``call``, given its ancestors ``path``
    (from the enclosing function or module down to its parent). With
    ``displayed_is_neutral``, a local only printed or logged (see
    :func:`only_displayed`) besides neutral uses is still dropped."""
    node, path, started = _unwrap_start(call, path)
    if not path:
        return HandleFate(Fate.ESCAPED)
    parent = path[-1]
    if isinstance(parent, cst.Expr):
        return HandleFate(Fate.DROPPED)
    if started:
        # ``x = Thread().start()`` binds None: the handle is gone either way.
        return HandleFate(Fate.DROPPED) if isinstance(parent, (cst.Assign, cst.AnnAssign)) else HandleFate(Fate.ESCAPED)
    if isinstance(parent, cst.Await):
        return HandleFate(Fate.AWAITED)
    if isinstance(parent, (cst.Assign, cst.AnnAssign)):
        targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
        if len(targets) != 1:
            return HandleFate(Fate.ESCAPED)
        target = targets[0]
        if isinstance(target, cst.Name):
            return _local_fate(path[0], target.value, parent, closers, neutral, displayed_is_neutral)
        if isinstance(target, cst.Attribute):
            return HandleFate(Fate.ATTRIBUTE, target.attr.value, dotted_name(target.value))
        return HandleFate(Fate.ESCAPED)
    container = _grown_container(node, path)
    if container is not None:
        return HandleFate(Fate.CONTAINER, container)
    return HandleFate(Fate.ESCAPED)


def _grown_container(node: cst.CSTNode, path: Path) -> str | None:
    """``xs`` when ``node`` is the argument of ``xs.add(node)``/``xs.append(node)``."""
    if len(path) >= 2 and isinstance(path[-1], cst.Arg) and isinstance(path[-2], cst.Call):
        func = path[-2].func
        if isinstance(func, cst.Attribute) and func.attr.value in GROWERS:
            return dotted_name(func.value)
    return None


def only_displayed(use: cst.CSTNode, path: Path) -> bool:
    """Whether ``use`` is only formatted for display: an argument of
    ``print``/``str``/``repr``/``format`` or of a logging method
    (``log.debug(...)``), or a field of an f-string. Nothing keeps it."""
    parent = path[-1] if path else None
    if isinstance(parent, cst.FormattedStringExpression):
        return True
    if isinstance(parent, cst.Arg) and len(path) >= 2 and isinstance(path[-2], cst.Call):
        func = path[-2].func
        if isinstance(func, cst.Name):
            return func.value in _DISPLAY_FUNCTIONS
        return isinstance(func, cst.Attribute) and func.attr.value in LOG_METHODS
    return False


def _local_fate(
    function: cst.CSTNode, name: str, binding: cst.CSTNode, closers: Collection[str], neutral: Collection[str],
    displayed_is_neutral: bool = False,
) -> HandleFate:
    if not isinstance(function, cst.Module) and _declared_global(function, name):
        return HandleFate(Fate.GLOBAL, name)
    fates: set[Fate] = set()
    container: str | None = None
    for use, path in find_paths(function, lambda n: isinstance(n, cst.Name) and n.value == name):
        parent = path[-1]
        if isinstance(parent, (cst.AssignTarget, cst.Del)) or (isinstance(parent, cst.AnnAssign) and parent.target is use):
            continue  # (re)binding or deleting the name
        if isinstance(parent, cst.Attribute) and parent.value is use:
            if parent.attr.value in closers:
                fates.add(Fate.CLOSED)
            elif parent.attr.value not in neutral:
                fates.add(Fate.ESCAPED)
            continue
        if isinstance(parent, (cst.Attribute, cst.Param, cst.Global, cst.Nonlocal)):
            continue  # ``x.name`` is some other attribute ``name``; a parameter is another binding
        if isinstance(parent, cst.Await):
            fates.add(Fate.AWAITED)
            continue
        if displayed_is_neutral and only_displayed(use, path):
            continue
        grown = _grown_container(use, path)
        if grown is not None:
            container = grown
            fates.add(Fate.CONTAINER)
            continue
        fates.add(Fate.ESCAPED)
    for fate in (Fate.CLOSED, Fate.AWAITED, Fate.ESCAPED, Fate.CONTAINER):
        if fate in fates:
            return HandleFate(fate, container if fate is Fate.CONTAINER else name)
    return HandleFate(Fate.DROPPED, name)


@dataclass(slots=True)
class AttributeUses:
    """How ``<obj>.attr`` is used across a class or module."""

    methods: set[str] = field(default_factory=set)  # ``x.attr.m(...)`` / ``x.attr.m``
    passed_to: set[str] = field(default_factory=set)  # last segment of calls taking ``x.attr``
    assigned: list[tuple[cst.BaseExpression, Path]] = field(default_factory=list)
    deleted: bool = False  # ``del x.attr`` / ``del x.attr[k]``
    aliased: bool = False  # the handle is copied out: ``t = x.attr``, ``return x.attr``, ``[x.attr]``
    other: bool = False  # any other read (compared, tested, iterated...)

    @property
    def handed_on(self) -> bool:
        """Whether someone else may stop the handle (aliased or passed to a call)."""
        return self.aliased or bool(self.passed_to)


def attribute_uses(root: cst.CSTNode, attr: str) -> AttributeUses:
    """Every use of an attribute named ``attr`` (any receiver) under ``root``."""
    uses = AttributeUses()
    for node, path in find_paths(root, lambda n: isinstance(n, cst.Attribute) and n.attr.value == attr):
        parent = path[-1]
        if isinstance(parent, cst.Attribute) and parent.value is node:
            uses.methods.add(parent.attr.value)
        elif isinstance(parent, cst.AssignTarget) and isinstance(path[-2], cst.Assign):
            uses.assigned.append((path[-2].value, path))
        elif isinstance(parent, (cst.AnnAssign, cst.AugAssign)) and parent.target is node:
            if parent.value is not None:
                uses.assigned.append((parent.value, path))
        elif isinstance(parent, cst.Del) or any(isinstance(p, cst.Del) for p in path[-3:]):
            uses.deleted = True
        elif isinstance(parent, (cst.Assign, cst.Return, cst.Element, cst.Yield, cst.NamedExpr)):
            uses.aliased = True
        elif isinstance(parent, cst.Arg) and isinstance(path[-2], cst.Call):
            func = path[-2].func
            last = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
            uses.passed_to.add(last)
        else:
            uses.other = True
    return uses


def enclosing_function(path: Path) -> cst.FunctionDef | None:
    for node in reversed(path):
        if isinstance(node, cst.FunctionDef):
            return node
    return None


@dataclass(frozen=True, slots=True)
class Site:
    """A call located in its module: full ancestor path and the innermost def."""

    node: cst.CSTNode
    path: Path  # from the module down to the parent

    @property
    def function(self) -> cst.FunctionDef | None:
        return enclosing_function(self.path)

    @property
    def local_path(self) -> Path:
        """Ancestors from the innermost ``def`` (or the module) down."""
        for position in range(len(self.path) - 1, -1, -1):
            if isinstance(self.path[position], cst.FunctionDef):
                return self.path[position:]
        return self.path

    @property
    def definitions(self) -> tuple[cst.CSTNode, ...]:
        """Enclosing classes and defs, outermost first."""
        return tuple(n for n in self.path if isinstance(n, (cst.ClassDef, cst.FunctionDef)))

    @property
    def klass(self) -> cst.ClassDef | None:
        for node in reversed(self.path):
            if isinstance(node, cst.ClassDef):
                return node
        return None

    @property
    def innermost_scope_node(self) -> cst.CSTNode:
        for node in reversed(self.path):
            if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return node
        return self.path[0]


def fate_of(
    site: Site,
    closers: Collection[str] = ("join", "cancel"),
    neutral: Collection[str] = NEUTRAL_USES,
    displayed_is_neutral: bool = False,
) -> HandleFate:
    """:func:`handle_fate` of a located call, within its innermost def."""
    return handle_fate(site.node, site.local_path, closers, neutral, displayed_is_neutral)


def in_loop(site: Site) -> bool:
    """Whether the call is inside a ``for``/``while`` of its own def."""
    return any(isinstance(node, (cst.For, cst.While)) for node in site.local_path[1:])


def expected_to_raise(site: Site) -> bool:
    """Whether the call sits in ``with pytest.raises(...)`` / ``with self.assertRaises(...)``."""
    return any(isinstance(node, cst.With) and expects_raise(node) for node in site.local_path)
