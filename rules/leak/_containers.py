"""Containers that grow: constructors, and the growth/shrink events of a statement.

Shared by the leak rules (MEM101 global containers, MEM104 mutable defaults,
MEM105 growth in endless loops): each asks "which statements grow or shrink
this container", keyed by the expression that names it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import libcst as cst
from memlint.tree.walk import iter_nodes

if TYPE_CHECKING:
    from memlint.tree.names import NameTracker, Scope

GROW_METHODS: Final = frozenset({
    "append", "appendleft", "extend", "extendleft", "insert", "add", "update", "setdefault",
})
SHRINK_METHODS: Final = frozenset({
    "pop", "popitem", "popleft", "remove", "discard", "clear",
    "difference_update", "intersection_update", "symmetric_difference_update", "rotate",
})
# Calls that read a container passed to them and never shrink it; anything
# else receiving the container might evict from it.
READ_ONLY_CALLS: Final = frozenset({
    "builtins.len", "builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset",
    "builtins.dict", "builtins.sorted", "builtins.reversed", "builtins.iter", "builtins.enumerate",
    "builtins.zip", "builtins.map", "builtins.filter", "builtins.sum", "builtins.min", "builtins.max",
    "builtins.any", "builtins.all", "builtins.print", "builtins.repr", "builtins.str",
    "builtins.isinstance", "builtins.id", "builtins.hash", "builtins.bool", "builtins.format",
    "copy.copy", "copy.deepcopy", "json.dumps", "pprint.pformat", "pprint.pprint",
})
# Methods of *another* object that only read a container given as argument.
READ_ONLY_METHODS: Final = GROW_METHODS | frozenset({"join", "format", "write", "writelines", "info",
                                                     "debug", "warning", "error", "exception", "log"})

_PLAIN: Final = {"list": "list", "dict": "dict", "set": "set"}
_COLLECTIONS: Final = {
    "collections.defaultdict": "defaultdict",
    "collections.OrderedDict": "OrderedDict",
    "collections.Counter": "Counter",
    "collections.deque": "deque",
    "builtins.list": "list",
    "builtins.dict": "dict",
    "builtins.set": "set",
}
# Containers whose item access inserts (``d[k].append(v)``, ``c[k] += 1``).
AUTO_INSERTING: Final = frozenset({"defaultdict", "Counter"})


class Event(enum.Enum):
    GROW = "grow"  # x.append(v), x[k] = v, x += ...
    GROW_ITEM = "grow-item"  # x[k].append(v), x[k] += 1: grows only auto-inserting containers
    SHRINK = "shrink"  # x.pop(), del x[k], x[a:b] = ..., x -= ...
    REBIND = "rebind"  # x = ...
    BOUND = "bound"  # len(x) compared with something
    ESCAPE = "escape"  # x handed to code that may shrink it (a call, a return, an alias)


def new_container(expr: cst.BaseExpression, names: NameTracker, scope: Scope | None = None) -> str | None:
    """The kind of unbounded growable container ``expr`` creates, or None.

    ``[]``/``{}``/``set()``/``dict()``, ``defaultdict``/``OrderedDict``/
    ``Counter``, and ``deque()`` without ``maxlen``. Weak containers and
    bounded deques are not growable-forever, so they give None.
    """
    if isinstance(expr, cst.List):
        return "list"
    if isinstance(expr, cst.Dict):
        return "dict"
    if isinstance(expr, (cst.ListComp, cst.DictComp, cst.SetComp)):
        return {cst.ListComp: "list", cst.DictComp: "dict", cst.SetComp: "set"}[type(expr)]
    if not isinstance(expr, cst.Call):
        return None
    kind = _COLLECTIONS.get(names.call_name(expr, scope) or "")
    if kind == "deque" and (len(expr.args) >= 2 or any(
        arg.keyword is not None and arg.keyword.value == "maxlen" for arg in expr.args
    )):
        maxlen = next((a.value for a in expr.args if a.keyword is not None and a.keyword.value == "maxlen"),
                      expr.args[1].value if len(expr.args) >= 2 else None)
        if not (isinstance(maxlen, cst.Name) and maxlen.value == "None"):
            return None
    return kind


def events(node: cst.CSTNode, names: NameTracker | None = None) -> Iterator[tuple[Event, cst.BaseExpression]]:
    """Growth/shrink events of one statement-level node, with the container
    expression each applies to (``x``, ``self.cache``, ``Cls.registry``).

    ``node`` is a Call, Assign, AnnAssign, AugAssign, Del, Comparison, Return
    or Yield; other nodes give nothing. Callers match the expression to the
    containers they track (``dotted_name`` is the usual key).
    """
    kind = type(node)
    if kind is cst.Call:
        yield from _call_events(node, names)  # type: ignore[arg-type]
    elif kind is cst.Assign:
        for target in node.targets:  # type: ignore[attr-defined]
            yield from _store_events(target.target)
        yield from _alias_events(node.value)  # type: ignore[attr-defined]
    elif kind is cst.AnnAssign:
        if node.value is not None:  # type: ignore[attr-defined]
            yield from _store_events(node.target)  # type: ignore[attr-defined]
            yield from _alias_events(node.value)  # type: ignore[attr-defined]
    elif kind is cst.AugAssign:
        yield from _augassign_events(node)  # type: ignore[arg-type]
    elif kind is cst.Del:
        yield from _del_events(node.target)  # type: ignore[attr-defined]
    elif kind is cst.Comparison:
        for operand in (node.left, *(c.comparator for c in node.comparisons)):  # type: ignore[attr-defined]
            if _is_len_call(operand):
                yield Event.BOUND, operand.args[0].value  # type: ignore[attr-defined]
    elif kind is cst.Return or kind is cst.Yield:
        value = node.value  # type: ignore[attr-defined]
        if isinstance(value, (cst.Name, cst.Attribute)):
            yield Event.ESCAPE, value
        elif isinstance(value, cst.Tuple):
            for element in value.elements:
                if isinstance(element.value, (cst.Name, cst.Attribute)):
                    yield Event.ESCAPE, element.value


def lookups(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """Containers a Comparison or Call looks a key up in: ``k in x``,
    ``x.get(k)``, ``x.setdefault(k, v)``. (Subscript loads ``x[k]`` are
    left to the caller, which knows store targets from loads.)"""
    if isinstance(node, cst.Comparison):
        for comparison in node.comparisons:
            if isinstance(comparison.operator, (cst.In, cst.NotIn)):
                yield comparison.comparator
    elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
            and node.func.attr.value in ("get", "setdefault", "__contains__", "__getitem__"):
        yield node.func.value


def _call_events(call: cst.Call, names: NameTracker | None) -> Iterator[tuple[Event, cst.BaseExpression]]:
    func = call.func
    method = func.attr.value if isinstance(func, cst.Attribute) else None
    if isinstance(func, cst.Attribute):
        owner = func.value
        if method in GROW_METHODS and not (method == "setdefault" and call.args and _is_constant(call.args[0].value)):
            yield Event.GROW, owner
        elif method in SHRINK_METHODS:
            yield Event.SHRINK, owner
        if method in GROW_METHODS and isinstance(owner, cst.Subscript):
            yield Event.GROW_ITEM, owner.value
    read_only = method in READ_ONLY_METHODS if method is not None else (
        names is not None and names.call_name(call) in READ_ONLY_CALLS
    )
    if read_only:
        return
    for arg in call.args:
        if isinstance(arg.value, (cst.Name, cst.Attribute)):
            yield Event.ESCAPE, arg.value


def _store_events(target: cst.BaseExpression) -> Iterator[tuple[Event, cst.BaseExpression]]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _store_events(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _store_events(target.value)
    elif isinstance(target, cst.Subscript):
        if _is_slice(target):
            yield Event.SHRINK, target.value
        else:
            if not _constant_key(target):
                yield Event.GROW, target.value
            if isinstance(target.value, cst.Subscript):
                yield Event.GROW_ITEM, target.value.value
    elif isinstance(target, (cst.Name, cst.Attribute)):
        yield Event.REBIND, target


# Literals that name one fixed key: a store there replaces one entry, it never adds a new one
# each time (`headers["Content-Type"] = ...`, `state[0] = ...`).
_CONSTANTS = (cst.SimpleString, cst.Integer, cst.Float, cst.ConcatenatedString)


def _is_constant(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.ConcatenatedString):
        return all(isinstance(part, (cst.SimpleString, cst.ConcatenatedString)) for part in (expr.left, expr.right))
    return isinstance(expr, _CONSTANTS) or (isinstance(expr, cst.Name) and expr.value in ("None", "True", "False"))


def _constant_key(target: cst.Subscript) -> bool:
    """``x["key"] = v``: at most one entry for that key, however often it runs."""
    if len(target.slice) != 1:
        return False
    element = target.slice[0].slice
    return isinstance(element, cst.Index) and _is_constant(element.value)


def _alias_events(value: cst.BaseExpression) -> Iterator[tuple[Event, cst.BaseExpression]]:
    # ``other = x`` / ``self.items = x``: a second name may shrink it.
    if isinstance(value, (cst.Name, cst.Attribute)):
        yield Event.ESCAPE, value
    elif isinstance(value, (cst.Tuple, cst.List)):
        for element in value.elements:
            yield from _alias_events(element.value)


def _augassign_events(node: cst.AugAssign) -> Iterator[tuple[Event, cst.BaseExpression]]:
    target = node.target
    growing = isinstance(node.operator, (cst.AddAssign, cst.BitOrAssign))
    if isinstance(target, cst.Subscript):
        if growing:
            yield Event.GROW_ITEM, target.value
    elif isinstance(target, (cst.Name, cst.Attribute)):
        if growing:
            yield Event.GROW, target
        else:
            yield Event.SHRINK, target


def _del_events(target: cst.BaseExpression) -> Iterator[tuple[Event, cst.BaseExpression]]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _del_events(element.value)
    elif isinstance(target, cst.Subscript):
        yield Event.SHRINK, target.value
    elif isinstance(target, (cst.Name, cst.Attribute)):
        yield Event.SHRINK, target


def _is_slice(target: cst.Subscript) -> bool:
    return any(isinstance(element.slice, cst.Slice) for element in target.slice)


def _is_len_call(expr: cst.BaseExpression) -> bool:
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Name)
        and expr.func.value == "len"
        and len(expr.args) == 1
    )


def definition_line(source: str, name: str, class_name: str | None = None) -> int | None:
    """Line of ``name = ...`` at module level (or in ``class class_name``),
    found textually: positions of other nodes than the reported one are not
    computed by the engine."""
    lines = source.splitlines()
    start = 0
    indent = ""
    if class_name is not None:
        header = re.compile(rf"^(\s*)class\s+{re.escape(class_name)}\b")
        for number, line in enumerate(lines):
            match = header.match(line)
            if match:
                start, indent = number + 1, match.group(1) + r"\s+"
                break
        else:
            return None
    pattern = re.compile(rf"^{indent}{re.escape(name)}\s*(?::[^=]*)?=(?!=)")
    for number in range(start, len(lines)):
        if pattern.match(lines[number]):
            return number + 1
    return None


@dataclass(frozen=True, slots=True)
class Container:
    """A growable container bound at module level or in a class body."""

    name: str  # the bound name (attribute name for class containers)
    kind: str  # list, dict, set, defaultdict, OrderedDict, Counter, deque
    node: cst.CSTNode  # the binding statement
    class_name: str | None = None  # dotted class path (``Outer.Inner``) for class attributes

    @property
    def key(self) -> str:
        return f"{self.class_name}.{self.name}" if self.class_name else self.name


def module_containers(module: cst.Module, names: NameTracker) -> dict[str, Container]:
    """Module-level and class-level container bindings, keyed ``name`` or
    ``Class.name``. A name bound more than once at its level (``x = {}`` then
    ``x = None``) is left out: which binding wins is not statically clear."""
    found: dict[str, Container] = {}
    counts: dict[str, int] = {}
    _collect(module.body, None, names, found, counts)
    return {key: container for key, container in found.items() if counts[key] == 1}


def _collect(body: Sequence[cst.CSTNode], class_name: str | None, names: NameTracker,
             found: dict[str, Container], counts: dict[str, int]) -> None:
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                _collect_binding(small, class_name, names, found, counts)
        elif isinstance(statement, cst.ClassDef):
            inner = f"{class_name}.{statement.name.value}" if class_name else statement.name.value
            block = statement.body
            if isinstance(block, cst.IndentedBlock):
                _collect(block.body, inner, names, found, counts)
        elif isinstance(statement, (cst.If, cst.Try, cst.With)) and class_name is None:
            # Conditional bindings at module level: count them, never track them.
            for node in iter_nodes(statement, into_functions=False):
                if isinstance(node, (cst.Assign, cst.AnnAssign)):
                    targets = node.targets if isinstance(node, cst.Assign) else [node]
                    for target in targets:
                        if isinstance(target.target, cst.Name):
                            counts[target.target.value] = counts.get(target.target.value, 0) + 1


def _collect_binding(small: cst.CSTNode, class_name: str | None, names: NameTracker,
                     found: dict[str, Container], counts: dict[str, int]) -> None:
    if isinstance(small, cst.Assign):
        targets = [t.target for t in small.targets]
        value = small.value
    elif isinstance(small, cst.AnnAssign):
        targets, value = [small.target], small.value
    else:
        return
    for target in targets:
        if not isinstance(target, cst.Name):
            continue
        key = f"{class_name}.{target.value}" if class_name else target.value
        counts[key] = counts.get(key, 0) + 1
        if value is None or len(targets) > 1:
            continue
        kind = new_container(value, names, names.module_scope)
        if kind is not None and key not in found and not target.value.startswith("__"):
            found[key] = Container(target.value, kind, small, class_name)
