"""Memoising decorators (``functools.cache``/``lru_cache``) and the kind of function they wrap."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import libcst as cst

from memlint.rule import Rule
from memlint.rules.leak._classes import defining_class
from memlint.tree.names import dotted_name
from memlint.tree.nodes import first_parameter, parameters, positional_parameters

if TYPE_CHECKING:
    from memlint.rule import FileContext
    from memlint.tree.names import NameTracker

_CACHES: Final = frozenset({"functools.cache", "functools.lru_cache"})


@dataclass(frozen=True, slots=True)
class Memo:
    """One memoising decorator: which, and whether its size is bounded."""

    decorator: cst.Decorator | cst.Call  # the call form: `lru_cache(maxsize=None)(func)`
    name: str  # ``cache`` or ``lru_cache``
    bounded: bool


def memo_decorator(function: cst.FunctionDef, names: NameTracker) -> Memo | None:
    """The ``functools`` memo decorator on ``function``, resolved through
    imports and aliases, in its bare or call form."""
    for decorator in function.decorators:
        expr = decorator.decorator
        call = expr if isinstance(expr, cst.Call) else None
        qualified = names.qualified_name(call.func if call is not None else expr)
        if qualified not in _CACHES:
            continue
        if qualified == "functools.cache":
            return Memo(decorator, "cache", bounded=False)
        return Memo(decorator, "lru_cache", bounded=call is None or _lru_bounded(call))
    return None


def memo_call(call: cst.Call, names: NameTracker) -> Memo | None:
    """``lru_cache(maxsize=None)(func)`` / ``cache(func)``: the call form of a
    memo decorator, applied to the function in its first argument."""
    if len(call.args) != 1 or call.args[0].keyword is not None:
        return None
    inner = call.func
    factory = inner if isinstance(inner, cst.Call) else None
    qualified = names.qualified_name(factory.func if factory is not None else inner)
    if qualified == "functools.cache" and factory is None:
        return Memo(call, "cache", bounded=False)
    if qualified == "functools.lru_cache" and factory is not None:
        return Memo(call, "lru_cache", bounded=_lru_bounded(factory))
    return None


def _lru_bounded(call: cst.Call) -> bool:
    """``lru_cache()`` and ``lru_cache(maxsize=N)`` are bounded; ``maxsize=None``
    (by keyword or first position) is not. Unknown expressions count as bounded."""
    for index, arg in enumerate(call.args):
        is_maxsize = (arg.keyword is not None and arg.keyword.value == "maxsize") or (arg.keyword is None and index == 0)
        if is_maxsize:
            return not (isinstance(arg.value, cst.Name) and arg.value.value == "None")
    return True


class MethodKind(enum.Enum):
    FUNCTION = "function"  # module-level or nested in a function
    INSTANCE = "instance"  # a plain method: first parameter is the instance
    STATIC = "static"
    CLASS = "class"


_METHOD_DECORATORS: Final = {
    "builtins.staticmethod": MethodKind.STATIC,
    "builtins.classmethod": MethodKind.CLASS,
    "abc.abstractclassmethod": MethodKind.CLASS,
    "abc.abstractstaticmethod": MethodKind.STATIC,
}


_CLASS_RECEIVERS: Final = frozenset({"cls", "klass", "mcs", "mcls", "metacls"})


def method_kind(function: cst.FunctionDef, in_class_body: bool, names: NameTracker) -> MethodKind:
    """What kind of callable ``function`` is, given whether it is defined
    directly in a class body (nested classes included)."""
    if not in_class_body:
        return MethodKind.FUNCTION
    for decorator in function.decorators:
        expr = decorator.decorator
        kind = _METHOD_DECORATORS.get(names.qualified_name(expr.func if isinstance(expr, cst.Call) else expr) or "")
        if kind is not None:
            return kind
    if function.name.value in ("__new__", "__init_subclass__", "__class_getitem__"):
        return MethodKind.CLASS  # implicit static/class methods
    if first_parameter(function) in _CLASS_RECEIVERS:
        return MethodKind.CLASS  # wrapped later: `f = classmethod(f)`, `@classproperty`
    return MethodKind.INSTANCE


def takes_arguments(function: cst.FunctionDef, kind: MethodKind) -> bool:
    """Whether calls can pass varying arguments (the receiver of an instance
    or class method does not count: MEM103 covers ``self``)."""
    receivers = 1 if kind in (MethodKind.INSTANCE, MethodKind.CLASS) and positional_parameters(function) else 0
    return len(list(parameters(function.params))) > receivers


def argument_names(function: cst.FunctionDef, kind: MethodKind) -> list[str]:
    """Names of the parameters callers pass (receiver and ``bool`` flags excluded)."""
    params = function.params
    positional = positional_parameters(function)
    if kind in (MethodKind.INSTANCE, MethodKind.CLASS) and positional:
        positional = positional[1:]
    names = [p.name.value for p in (*positional, *params.kwonly_params) if not _is_flag(p)]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.append(star.name.value)
    return names


def _is_flag(param: cst.Param) -> bool:
    """A ``bool`` parameter (annotated or defaulted so): two values at most."""
    annotation = param.annotation.annotation if param.annotation is not None else None
    if isinstance(annotation, cst.Name) and annotation.value == "bool":
        return True
    return isinstance(param.default, cst.Name) and param.default.value in ("True", "False")


class MemoCacheRule(Rule):
    """The family's base of the rules about ``functools`` memo caches (MEM102
    unbounded-function-cache, MEM103 cache-on-method).

    What it does for them, in one walk:

    - ``visit_FunctionDef``: for a function decorated with ``functools.cache``
      or ``lru_cache`` (any spelling, see ``memo_decorator``) it asks the
      subclass's ``examine(function, memo, cls)``, where ``cls`` is the class
      whose body defines the function (None outside class bodies). ``examine``
      returns the message to report, worded by the subclass, or None;
    - ``visit_Attribute``: notes every ``<name>.cache_clear`` in the module;
    - ``finish``: reports each examined decorator with its message unless the
      module clears that function's cache somewhere (``load.cache_clear()``).
    """

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # (the names the cached function goes by, its memo decorator or call, the message examine() gave)
        self._found: list[tuple[set[str], cst.Decorator | cst.Call, str]] = []
        self._defined: dict[str, cst.FunctionDef] = {}  # functions by name, outside class bodies
        self._cleared: set[str] = set()  # names whose `.cache_clear` the module mentions

    def examine(self, function: cst.FunctionDef, memo: Memo, cls: cst.ClassDef | None) -> str | None:
        """The message to report for ``function``'s memo decorator, or None."""
        raise NotImplementedError

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # `load.cache_clear()` anywhere in the module: the cache is emptied.
        if node.attr.value == "cache_clear":
            self._cleared.add((dotted_name(node.value) or "").rsplit(".", 1)[-1])

    def visit_Call(self, node: cst.Call) -> None:
        # `resolve = lru_cache(maxsize=None)(_resolve)`: the decorator applied by hand.
        memo = memo_call(node, self.context.names)
        wrapped = node.args[0].value if memo is not None else None
        function = self._defined.get(wrapped.value) if isinstance(wrapped, cst.Name) else None
        if memo is None or function is None:
            return
        message = self.examine(function, memo, None)
        if message is not None:
            parent = self.context.where.parents[-1] if self.context.where.parents else None
            targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else []
            names = {t.value for t in targets if isinstance(t, cst.Name)} | {function.name.value}
            self._found.append((names, memo.decorator, message))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.context.where.cls is None:
            self._defined[node.name.value] = node
        memo = memo_decorator(node, self.context.names)
        if memo is None:
            return
        message = self.examine(node, memo, defining_class(self.context.where.definitions()))
        if message is not None:
            self._found.append(({node.name.value}, memo.decorator, message))

    def finish(self) -> None:
        for names, decorator, message in self._found:
            if not names & self._cleared:
                self.report(decorator, message)
