"""When does code run? Once (at import or start-up), or per call, from the module's own call graph.

A container filled, a handler added, an exit callback registered or a thread
started is a leak only when the code doing it runs again and again. Code that
runs once per process is registration, not accumulation. This module answers
"does this function run only once?" from facts in the module itself:

- **module-level code** runs once, at import, and so does the
  ``if __name__ == "__main__":`` block;
- **class bodies** run when their class is created, as often as the code that
  defines the class;
- **class-creation hooks** run once per class, when a class statement runs:
  ``__init_subclass__``, ``__set_name__``, and a metaclass's ``__new__``,
  ``__init__`` and ``__prepare__`` (a class deriving from ``type`` or from
  another metaclass of the module);
- **a function or method** runs once when every reference to it in the module
  is a call (or its use as a decorator) made from code that itself runs once:
  ``setup()`` called only from module level, ``self._install()`` called only
  from the ``__init__`` of a class instantiated only at module level;
- **constructors** (``__new__``, ``__init__``, ``__post_init__``) run once when
  every instantiation of the class in the module, and of its subclasses in the
  module, is made from code that runs once.

Anything else counts as "per call": a function referenced without being
called (a callback handed to a framework, a thread target, a returned closure)
may run any number of times, and so may a dunder method Python calls
implicitly (``__call__``, ``__enter__``, ``__getitem__``). A function nobody
in the module calls is public API whose callers are elsewhere: per call too.
The one blind spot is the other direction: a function this module calls only
at import may also be called per request from another module.

A class has **one instance per process** when it caches its own instance
(``cls._instance = super().__new__(cls)``, ``Cls._instance = Cls()`` in a
method), or every instance the module makes is made by code that runs once.

The facts are computed once per module, on first request (most files never
ask).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

import libcst as cst

from memlint.analysis.naming import handler_parameter
from memlint.tree.nodes import first_parameter, parameters
from memlint.tree.walk import child_nodes as children, iter_nodes

# Run by Python when a class statement runs, once per class.
_CLASS_CREATION_HOOKS: Final = frozenset({"__init_subclass__", "__set_name__"})
_METACLASS_HOOKS: Final = frozenset({"__new__", "__init__", "__prepare__"})
# Run by Python when the class is called: as often as it is instantiated.
_CONSTRUCTORS: Final = frozenset({"__new__", "__init__", "__post_init__"})

# A code unit: a function, or None for module-level code. Class bodies belong
# to the unit that defines the class.
Unit = cst.FunctionDef | cst.Lambda | None


class Use(Enum):
    """How a mention of a function or class uses it."""

    CALL = "call"  # `f()`, `@f`
    FACTORY = "factory"  # `@f(...)`: f is called, and so is what it returns, once each
    RETURNED = "returned"  # `return f` from the function defining it
    VALUE = "value"  # anything else: handed on, stored, compared


@dataclass(eq=False)
class _Reference:
    """One mention of a function or class: the unit it is in, and how it uses it."""

    unit: Unit
    use: Use
    in_loop: bool = False  # inside a `for`/`while` of its unit
    argument: bool = False  # a value passed to a call: a callback someone else calls


@dataclass(eq=False)
class _Class:
    node: cst.ClassDef
    unit: Unit
    methods: dict[str, cst.FunctionDef] = field(default_factory=dict)
    bases: list[str] = field(default_factory=list)
    metaclass: str | None = None
    subclasses: list[_Class] = field(default_factory=list)
    references: list[_Reference] = field(default_factory=list)
    caches_instance: bool = False


@dataclass(eq=False)
class _Function:
    node: cst.FunctionDef
    unit: Unit  # the unit that defines it (runs the `def` statement)
    cls: _Class | None  # the class whose body defines it
    references: list[_Reference] = field(default_factory=list)


class Schedule:
    """How often each function of one module runs: once, or per call."""

    def __init__(self, module: cst.Module) -> None:
        self._functions: dict[cst.FunctionDef, _Function] = {}
        self._classes: dict[cst.ClassDef, _Class] = {}
        self._once: set[cst.FunctionDef] = set()
        _Collector(self._functions, self._classes).collect(module)
        self._metaclasses = self._find_metaclasses()
        self._solve()

    def runs_once(self, function: cst.FunctionDef | cst.Lambda | None) -> bool:
        """``function`` (None: module-level code) runs once per process: at
        import, at class creation, or from start-up code only."""
        return function is None or function in self._once

    def runs_repeatedly(self, function: cst.FunctionDef | cst.Lambda | None) -> bool:
        """The module itself shows ``function`` running again and again
        (per request, message, event or item):

        - it is a wrapper or closure returned by the function defining it
          (``def timed(fn): def wrapper(...): ...; return wrapper``), run on
          every call of what it wraps, or a lambda;
        - it is handed to a call as a callback (``bus.subscribe(on_message)``);
        - it is given one request, message, event or connection (``def
          handle(request)``, ``on_message(msg)``: a handler signature, by the
          names of its parameters);
        - it is called inside a loop, or by a function that runs repeatedly.

        False for a function that runs once, and for one whose callers are
        unknown (public API nobody in the module calls)."""
        return self._repeated(function, 0)

    def _repeated(self, function: cst.FunctionDef | cst.Lambda | None, depth: int) -> bool:
        if function is None or depth > 20:
            return False
        if isinstance(function, cst.Lambda):
            return True
        info = self._functions.get(function)
        if info is None or function in self._once:
            return False
        if any(handler_parameter(param.name.value) for param in parameters(function.params)):
            return True
        for reference in info.references:
            if reference.use is Use.RETURNED and not self._once_use(reference):
                return True
            if reference.use is Use.VALUE and reference.argument:
                return True
            if reference.use is Use.CALL and not self.runs_once(reference.unit) and (
                reference.in_loop or self._repeated(reference.unit, depth + 1)
            ):
                return True
        return False

    def single_instance(self, cls: cst.ClassDef) -> bool:
        """``cls`` has at most one instance per process: it caches its own
        instance, or every instance the module makes is made once."""
        info = self._classes.get(cls)
        if info is None:
            return False
        return info.caches_instance or (bool(info.references) and self._instantiated_once(info))

    # -- the fixpoint --------------------------------------------------
    def _solve(self) -> None:
        # Least fixpoint: a function is once when it has callers and all of
        # them run once. Cycles (recursion) stay per call.
        for info in self._functions.values():
            if self._hook(info):
                self._once.add(info.node)
        changed = True
        while changed:
            changed = False
            for info in self._functions.values():
                if info.node not in self._once and self._called_once(info):
                    self._once.add(info.node)
                    changed = True

    def _hook(self, info: _Function) -> bool:
        name = info.node.name.value
        if info.cls is None or not self._defined_once(info.cls):
            return False
        if name in _CLASS_CREATION_HOOKS:
            return True
        return name in _METACLASS_HOOKS and self._is_metaclass(info.cls)

    def _defined_once(self, cls: _Class) -> bool:
        return self.runs_once(cls.unit)

    def _is_metaclass(self, cls: _Class) -> bool:
        """A class deriving from ``type``, or named as a metaclass by a class
        of the module (``class Plugin(metaclass=Registering)``), or deriving
        from such a class."""
        return cls.node in self._metaclasses

    def _find_metaclasses(self) -> set[cst.ClassDef]:
        named = {info.metaclass for info in self._classes.values() if info.metaclass is not None}
        found = {info.node for info in self._classes.values()
                 if "type" in info.bases or info.node.name.value in named}
        changed = True
        while changed:  # subclasses of a metaclass are metaclasses
            changed = False
            names = {node.name.value for node in found}
            for info in self._classes.values():
                if info.node not in found and names.intersection(info.bases):
                    found.add(info.node)
                    changed = True
        return found

    def _called_once(self, info: _Function) -> bool:
        name = info.node.name.value
        if info.cls is not None and name in _CONSTRUCTORS:
            return self._instantiated_once(info.cls)
        if name.startswith("__") and name.endswith("__"):
            return False  # called by Python itself, as often as the object is used
        return self._all_once(info.references)

    def _instantiated_once(self, cls: _Class, depth: int = 0) -> bool:
        if cls.caches_instance:
            return True
        if depth > 20 or not self._defined_once(cls):
            return False
        if not cls.references and not cls.subclasses:
            return False  # instantiated elsewhere, if at all: unknown
        return self._all_once(cls.references, allow_empty=True) and all(
            self._instantiated_once(sub, depth + 1) for sub in cls.subclasses
        )

    def _all_once(self, references: list[_Reference], allow_empty: bool = False) -> bool:
        if not references:
            return allow_empty
        return all(self._once_use(reference) for reference in references)

    def _once_use(self, reference: _Reference) -> bool:
        if reference.use is Use.RETURNED:
            # A decorator made by a factory (`def register(name): def deco(fn): ...;
            # return deco`) runs once per `@register(...)` line that runs once.
            maker = self._functions.get(reference.unit) if isinstance(reference.unit, cst.FunctionDef) else None
            return maker is not None and bool(maker.references) and all(
                use.use is Use.FACTORY and self.runs_once(use.unit) for use in maker.references
            )
        return reference.use in (Use.CALL, Use.FACTORY) and self.runs_once(reference.unit)


# The last module asked about and its schedule. Every rule asking about one
# file shares it; one entry, so memory stays bounded by the largest file
# (libcst nodes cannot be weakly referenced).
_LAST: list[tuple[cst.Module, Schedule]] = []


def schedule_of(module: cst.Module) -> Schedule:
    """The module's schedule, computed on first request."""
    if _LAST and _LAST[0][0] is module:
        return _LAST[0][1]
    found = Schedule(module)
    _LAST[:] = [(module, found)]
    return found


class _Collector:
    """One walk over the module: definitions, and every reference to them."""

    def __init__(self, functions: dict[cst.FunctionDef, _Function], classes: dict[cst.ClassDef, _Class]) -> None:
        self.functions = functions
        self.classes = classes
        # Name look-ups are resolved after the walk, when every def is known.
        self._pending: list[tuple[str, Scopes, _Reference]] = []
        self._attribute_refs: list[tuple[_Class, str, _Reference]] = []
        self._class_stores: list[tuple[cst.Assign, _Receiver]] = []
        self._loops = 0  # `for`/`while` statements around the node, within its unit
        self._argument = False  # the node is an argument of a call

    def collect(self, module: cst.Module) -> None:
        self._body(module.body, ({},), None, None, None)
        for name, scopes, reference in self._pending:
            target = _lookup(name, scopes)
            if isinstance(target, (_Function, _Class)):
                target.references.append(reference)
        for cls, name, reference in self._attribute_refs:
            method = cls.methods.get(name)
            if method is not None:
                self.functions[method].references.append(reference)
        for store, receiver in self._class_stores:
            _note_instance_cache(store, receiver)
        module_classes = {info.node.name.value: info for info in self.classes.values() if info.unit is None}
        for info in self.classes.values():
            for base in info.bases:
                parent = module_classes.get(base)
                if parent is not None and parent is not info:
                    parent.subclasses.append(info)

    def _body(self, body: Iterable[cst.CSTNode], scopes: Scopes, unit: Unit, cls: _Class | None,
              receiver: _Receiver | None) -> None:
        for statement in body:
            self._node(statement, scopes, unit, cls, receiver)

    def _node(self, node: cst.CSTNode, scopes: Scopes, unit: Unit, cls: _Class | None,
              receiver: _Receiver | None) -> None:
        if isinstance(node, cst.FunctionDef):
            self._function(node, scopes, unit, cls, receiver)
        elif isinstance(node, cst.ClassDef):
            self._class(node, scopes, unit, cls, receiver)
        elif isinstance(node, cst.Lambda):
            # A lambda's body runs whenever the lambda is called: its own unit, never once.
            outer = self._loops, self._argument
            self._loops, self._argument = 0, False
            self._node(node.body, scopes, node, None, receiver)
            self._loops, self._argument = outer
        elif isinstance(node, cst.Call):
            self._callee(node.func, scopes, unit, receiver, Use.CALL)
            for arg in node.args:
                outer, self._argument = self._argument, True
                self._node(arg.value, scopes, unit, cls, receiver)
                self._argument = outer
        elif isinstance(node, (cst.For, cst.While)):
            self._loops += 1
            for child in children(node):
                self._node(child, scopes, unit, cls, receiver)
            self._loops -= 1
        elif isinstance(node, cst.Decorator):
            # `@register` / `@register(...)`: called once, where the decorated statement runs.
            decorator = node.decorator
            if isinstance(decorator, cst.Call):
                self._callee(decorator.func, scopes, unit, receiver, Use.FACTORY)
            else:
                self._callee(decorator, scopes, unit, receiver, Use.CALL)
            if isinstance(decorator, cst.Call):
                for arg in decorator.args:
                    self._node(arg.value, scopes, unit, cls, receiver)
        elif isinstance(node, cst.Name):
            self._pending.append((node.value, scopes, self._reference(unit, Use.VALUE)))
        elif isinstance(node, cst.Attribute):
            self._callee(node, scopes, unit, receiver, Use.VALUE)
        elif isinstance(node, cst.Return) and isinstance(node.value, cst.Name):
            self._pending.append((node.value.value, scopes, self._reference(unit, Use.RETURNED)))
        elif isinstance(node, (cst.Annotation, cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal)):
            return  # types and imports name things without running them
        elif isinstance(node, cst.AssignTarget):
            self._store(node.target, scopes, unit, cls, receiver)
        else:
            if isinstance(node, cst.Assign) and receiver is not None:
                self._class_stores.append((node, receiver))  # judged once every method is known
            for child in children(node):
                self._node(child, scopes, unit, cls, receiver)

    def _reference(self, unit: Unit, use: Use) -> _Reference:
        return _Reference(unit, use, in_loop=self._loops > 0, argument=self._argument and use is Use.VALUE)

    def _store(self, target: cst.CSTNode, scopes: Scopes, unit: Unit, cls: _Class | None,
               receiver: _Receiver | None) -> None:
        if isinstance(target, cst.Name):
            return  # a binding, not a use
        if isinstance(target, cst.Attribute):
            self._node(target.value, scopes, unit, cls, receiver)
            return
        for child in children(target):
            self._store(child, scopes, unit, cls, receiver) if isinstance(child, (cst.Name, cst.Attribute, cst.Element,
                                                                                   cst.StarredElement)) \
                else self._node(child, scopes, unit, cls, receiver)

    def _callee(self, expr: cst.BaseExpression, scopes: Scopes, unit: Unit, receiver: _Receiver | None,
                use: Use) -> None:
        """A name, ``self.method`` or ``Class.method``, called or only mentioned."""
        if isinstance(expr, cst.Name):
            self._pending.append((expr.value, scopes, self._reference(unit, use)))
            return
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            base = expr.value.value
            if receiver is not None and base == receiver.name:
                self._attribute_refs.append((receiver.cls, expr.attr.value, self._reference(unit, use)))
                return
            target = _lookup(base, scopes)
            if isinstance(target, _Class):
                self._attribute_refs.append((target, expr.attr.value, self._reference(unit, use)))
            else:
                self._pending.append((base, scopes, self._reference(unit, Use.VALUE)))
            return
        # `make().run()`, `a.b.c()`: only the object part names something here.
        self._node(expr.value if isinstance(expr, cst.Attribute) else expr, scopes, unit, None, receiver)

    def _function(self, node: cst.FunctionDef, scopes: Scopes, unit: Unit, cls: _Class | None,
                  receiver: _Receiver | None) -> None:
        for decorator in node.decorators:
            self._node(decorator, scopes, unit, cls, receiver)
        for param in parameters(node.params):
            if param.default is not None:
                self._node(param.default, scopes, unit, cls, receiver)
        info = _Function(node, unit, cls)
        self.functions[node] = info
        if cls is not None:
            cls.methods[node.name.value] = node
        else:
            scopes[-1][node.name.value] = info
        inner = receiver
        if cls is not None and not _decorated(node, "staticmethod"):
            first = first_parameter(node)
            # `cls` in a classmethod or `__new__` is the class; `self` is one instance.
            of_class = _decorated(node, "classmethod") or node.name.value in ("__new__", "__init_subclass__")
            inner = _Receiver(cls, first, of_class) if first is not None else None
        outer = self._loops, self._argument
        self._loops, self._argument = 0, False
        self._body(_statements(node.body), (*scopes, {}), node, None, inner)
        self._loops, self._argument = outer

    def _class(self, node: cst.ClassDef, scopes: Scopes, unit: Unit, cls: _Class | None,
               receiver: _Receiver | None) -> None:
        for decorator in node.decorators:
            self._node(decorator, scopes, unit, cls, receiver)
        info = _Class(node, unit)
        for arg in node.bases:
            name = _last_name(arg.value)
            if name is not None:
                info.bases.append(name)  # a base named is not a base used: no reference
            else:
                self._node(arg.value, scopes, unit, cls, receiver)
        for arg in node.keywords:
            if arg.keyword is not None and arg.keyword.value == "metaclass":
                info.metaclass = _last_name(arg.value)
            else:
                self._node(arg.value, scopes, unit, cls, receiver)
        self.classes[node] = info
        if cls is None:
            scopes[-1][node.name.value] = info
        # A class body runs as often as the code that defines the class.
        self._body(_statements(node.body), scopes, unit, info, receiver)


Scopes = tuple[dict[str, object], ...]


@dataclass(frozen=True)
class _Receiver:
    """Inside a method: its class, the name of its first parameter, and
    whether that parameter is the class (``cls``) rather than an instance."""

    cls: _Class
    name: str
    of_class: bool


def _note_instance_cache(node: cst.Assign, receiver: _Receiver) -> None:
    """``cls._instance = super().__new__(cls)`` / ``Cls._instance = Cls()``:
    the class keeps its one instance."""
    class_name = receiver.cls.node.name.value
    stores_on_class = any(
        isinstance(target.target, cst.Attribute) and isinstance(target.target.value, cst.Name)
        and (target.target.value.value == class_name
             or (receiver.of_class and target.target.value.value == receiver.name))
        for target in node.targets
    )
    if stores_on_class and isinstance(node.value, cst.Call) and _makes_instance(node.value.func, receiver):
        receiver.cls.caches_instance = True


def _makes_instance(func: cst.BaseExpression, receiver: _Receiver) -> bool:
    """``cls(...)``, ``Cls(...)``, ``super().__new__``, ``object.__new__``, or
    a class method of the class that itself calls ``cls(...)`` (a factory)."""
    if isinstance(func, cst.Name):
        return _names_class(func.value, receiver)
    if not isinstance(func, cst.Attribute):
        return False
    if func.attr.value == "__new__":
        return True
    if isinstance(func.value, cst.Name) and _names_class(func.value.value, receiver):
        factory = receiver.cls.methods.get(func.attr.value)
        return factory is not None and any(
            isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and _names_class(node.func.value, receiver)
            for node in iter_nodes(factory.body)
        )
    return False


def _names_class(name: str, receiver: _Receiver) -> bool:
    return name == receiver.cls.node.name.value or (receiver.of_class and name == receiver.name)


def _statements(body: cst.BaseSuite) -> Iterable[cst.CSTNode]:
    return body.body if isinstance(body, cst.IndentedBlock) else (body,)


def _decorated(node: cst.FunctionDef, name: str) -> bool:
    return any(isinstance(d.decorator, cst.Name) and d.decorator.value == name for d in node.decorators)


def _last_name(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def _lookup(name: str, scopes: Scopes) -> object:
    for scope in reversed(scopes):
        if name in scope:
            return scope[name]
    return None
