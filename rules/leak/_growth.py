"""What a growth site inside a function stores, and whether it runs per call.

Used by MEM101 (unbounded-global-container) to tell a per-request leak from
the registries, import-time tables and decorator bookkeeping that real code
is full of.
"""

from __future__ import annotations

import libcst as cst

from memlint.tree.walk import iter_nodes
from memlint.tree.names import dotted_name
from memlint.analysis.naming import identifiers, identity_identifier, per_call_identifier
from memlint.tree.nodes import first_parameter, positional_parameters


def in_decorator_factory(chain: tuple[cst.FunctionDef, ...]) -> bool:
    """``def factory(...): def decorator(func): ...; return decorator``: the
    growth is in the inner one-argument function, which runs when something
    is decorated. Not in a function nested deeper (the wrapper the decorator
    returns runs on every call of what it decorates)."""
    if len(chain) < 2:
        return False
    outer, inner = chain[-2], chain[-1]
    if not (len(positional_parameters(inner)) == 1 and _returns_function(outer, inner)):
        return False
    if len(chain) >= 3 and _returns_function(chain[-3], outer):
        return False  # factory -> decorator -> wrapper: the growth is in the wrapper
    # A wrapper calls the function it wraps (a parameter of the outer function);
    # a decorator registers or returns the function it is given.
    wrapped = {param.name.value for param in positional_parameters(outer)}
    return not any(
        isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in wrapped
        for node in iter_nodes(inner.body, into_functions=False)
    )


def _returns_function(outer: cst.FunctionDef, inner: cst.FunctionDef) -> bool:
    return any(
        isinstance(node, cst.Return) and isinstance(node.value, cst.Name) and node.value.value == inner.name.value
        for node in iter_nodes(outer.body, into_functions=False)
    )


def pins_identity(node: cst.CSTNode, chain: tuple[cst.FunctionDef, ...]) -> bool:
    """The growth stores one object per call or instance: a key or value
    built with ``id(...)``, or the instance itself (``registry.append(self)``)."""
    in_method = any(first_parameter(f) == "self" for f in chain)
    # Locals holding an identity: `fid = id(frame)`.
    ids = {
        target.target.value
        for child in iter_nodes(chain[-1].body, into_functions=False)
        if isinstance(child, cst.Assign) and _is_id_call(child.value)
        for target in child.targets if isinstance(target.target, cst.Name)
    }
    bases: set[cst.CSTNode] = set()
    for child in iter_nodes(node, into_functions=False):
        if isinstance(child, cst.Attribute):
            bases.add(child.value)
        elif _is_id_call(child) or (isinstance(child, cst.Name) and child.value in ids):
            return True
        elif isinstance(child, cst.Name) and child.value == "self" and child not in bases and in_method:
            return True
    return False


def _stored(node: cst.CSTNode) -> list[cst.CSTNode]:
    """What a growth statement stores (keys and values), without the
    container expression itself."""
    if isinstance(node, cst.Call):
        return [arg.value for arg in node.args]
    if isinstance(node, (cst.Assign, cst.AnnAssign)):
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        keys = [t.slice for t in targets if isinstance(t, cst.Subscript)]
        return [element.slice for slices in keys for element in slices] + ([node.value] if node.value else [])
    if isinstance(node, cst.AugAssign):
        keys = list(node.target.slice) if isinstance(node.target, cst.Subscript) else []
        return [element.slice for element in keys] + [node.value]
    return []


def stores_per_call_data(node: cst.CSTNode) -> bool:
    """The growth stores a value named as per-request data: ``request_id``,
    ``session``, ``user``, ``token``, ``event``, ``message``..."""
    for stored in _stored(node):
        for child in (stored, *iter_nodes(stored, into_functions=False)):
            if isinstance(child, (cst.Name, cst.Attribute)) and any(
                per_call_identifier(identifier) for identifier in identifiers(child) if identifier not in ("self", "cls")
            ):
                return True
    return False


def keyed_by_identity(node: cst.CSTNode) -> bool:
    """The growth's key names who or which one a call is about: ``msg["id"]``,
    ``properties.message_id``, ``client_ip``, ``id(obj)``. A dedup set or a
    state table keyed so gains one entry per request or object. Only the key
    counts (``seen.add(k)``, ``x[k] = v``, ``x.setdefault(k, d)``), not the
    value stored under it."""
    for key in _keys(node):
        for child in (key, *iter_nodes(key, into_functions=False)):
            if _is_id_call(child):
                return True
            if isinstance(child, (cst.Name, cst.Attribute)) and any(
                identity_identifier(identifier) for identifier in identifiers(child) if identifier not in ("self", "cls")
            ):
                return True
            if isinstance(child, cst.SubscriptElement) and isinstance(child.slice, cst.Index) \
                    and isinstance(child.slice.value, cst.SimpleString):
                text = child.slice.value.evaluated_value
                if isinstance(text, str) and identity_identifier(text):
                    return True  # `msg["id"]`
    return False


def _keys(node: cst.CSTNode) -> list[cst.BaseExpression]:
    """The keys a growth statement adds: the item of ``add``/``append``, the
    first argument of ``setdefault``, the subscript of ``x[k] = v``."""
    if isinstance(node, cst.Call):
        return [node.args[0].value] if node.args else []
    targets: list[cst.BaseExpression] = []
    if isinstance(node, cst.Assign):
        targets = [t.target for t in node.targets]
    elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
        targets = [node.target]
    return [
        element.slice.value for target in targets if isinstance(target, cst.Subscript)
        for element in target.slice if isinstance(element.slice, cst.Index)
    ]


def returns_stored(function: cst.FunctionDef, node: cst.CSTNode, container: str) -> bool:
    """A get-or-create memo: the function returns what it stores (``return
    cache[k]``, or the value it just stored: ``cache[k] = v = make(k); return
    v``). Its size is its key space, like any cache; a dedup set or a state
    table records an event and returns nothing of it."""
    stored: set[str] = set()
    if isinstance(node, cst.Assign):
        stored = {t.target.value for t in node.targets if isinstance(t.target, cst.Name)}
        if isinstance(node.value, cst.Name):
            stored.add(node.value.value)
        elif isinstance(node.value, cst.Await) and isinstance(node.value.expression, cst.Name):
            stored.add(node.value.expression.value)
    for child in iter_nodes(function.body, into_functions=False):
        if not isinstance(child, cst.Return) or child.value is None:
            continue
        value = child.value.expression if isinstance(child.value, cst.Await) else child.value
        if any(isinstance(n, cst.Name) and n.value in stored for n in iter_nodes(value, include_self=True)):
            return True  # `return v`, `return cast(T, v)`
        while isinstance(value, cst.Subscript):
            value = value.value
            if _same_container(value, container):
                return True
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) \
                and value.func.attr.value in ("get", "setdefault") and _same_container(value.func.value, container):
            return True
    return False


def _same_container(expr: cst.BaseExpression, container: str) -> bool:
    """``cache``, ``self.cache`` or ``Cls.cache`` for the container ``cache``."""
    name = dotted_name(expr)
    return name is not None and name.rsplit(".", 1)[-1] == container.rsplit(".", 1)[-1]


def _is_id_call(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "id"


# Explicit registration APIs: adding is the function's contract and its
# callers (usually import-time code in other modules) decide how often.
_REGISTERING = ("register", "add", "install", "declare", "define", "def", "set", "replace", "subscribe", "bind",
                "load")


def is_registration_api(function: cst.FunctionDef) -> bool:
    name = function.name.value.lstrip("_").lower()
    return name.startswith(_REGISTERING)


def inheriting_classes(module: cst.Module) -> set[str]:
    """Dotted paths of classes with a base class from another module: the
    base class (unseen) may well empty the container its subclass declares."""
    found: set[str] = set()
    local: set[str] = {"object"}

    def walk(body: object, prefix: str | None) -> None:
        for statement in body:  # type: ignore[attr-defined]
            if isinstance(statement, cst.ClassDef):
                path = f"{prefix}.{statement.name.value}" if prefix else statement.name.value
                roots = {(dotted_name(arg.value) or "?").split(".")[0] for arg in statement.bases if arg.keyword is None}
                if roots - local:
                    found.add(path)
                local.add(statement.name.value)
                if isinstance(statement.body, cst.IndentedBlock):
                    walk(statement.body.body, path)

    walk(module.body, None)
    return found
