"""Classes with few, long-lived instances: explicit singletons and service objects.

A per-instance leak (a cache keyed on ``self``, an ``atexit`` registration of
a bound method) costs nothing when a class has one instance per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import libcst as cst

from memlint.tree.names import dotted_name

# Class-name endings of service objects, built once per process or per
# configuration (a finder, a backend, a schema manager), not per request.
SERVICE_SUFFIXES: Final = (
    "Manager", "Backend", "Finder", "Registry", "Service", "Factory", "Provider", "Loader", "Resolver",
    "Engine", "Dialect", "Application", "App", "Config", "Settings", "Server", "Shell",
)


def is_singleton(cls: cst.ClassDef, module: cst.Module) -> bool:
    """A ``Singleton`` base or metaclass, or one instance made at module
    level (``MANAGER = SchemaManager()``)."""
    for arg in cls.bases + cls.keywords:
        if "singleton" in (dotted_name(arg.value) or "").lower():
            return True
    name = cls.name.value
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) else None
                if isinstance(value, cst.Call) and dotted_name(value.func) == name:
                    return True
    return False


def is_service(cls: cst.ClassDef) -> bool:
    """Named like a service object (``PackageFinder``, ``EMRBackend``)."""
    return cls.name.value.endswith(SERVICE_SUFFIXES)


def defining_class(definitions: Sequence[cst.FunctionDef | cst.ClassDef]) -> cst.ClassDef | None:
    """The class whose body defines the innermost of ``definitions`` (the
    enclosing defs and classes, outermost first, as ``where.definitions()``
    gives them), or None: for a method, its class; for a function defined in
    a function or at module level, None."""
    if len(definitions) >= 2 and isinstance(definitions[-2], cst.ClassDef):
        return definitions[-2]
    return None
