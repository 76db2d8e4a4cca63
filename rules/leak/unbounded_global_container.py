"""MEM101 unbounded-global-container."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from memlint.rules.leak._containers import (
    AUTO_INSERTING, SHRINK_METHODS, Container, Event, definition_line, events, lookups,
    module_containers,
)
from memlint.rules.leak._classes import defining_class
from memlint.rules.leak._growth import (
    in_decorator_factory, inheriting_classes, is_registration_api, keyed_by_identity, pins_identity, returns_stored,
    stores_per_call_data,
)
from memlint.rules.leak._once import fills_when_empty, runs_once
from memlint.analysis.schedule import schedule_of
from memlint.diagnostic import Family
from memlint.options import Option, parse_bool
from memlint.rule import FileContext, Rule
from memlint.tree.names import dotted_name
from memlint.tree.walk import Path
from memlint.tree.nodes import first_parameter


# Methods that run once per instance created.
_CONSTRUCTORS = frozenset({"__init__", "__new__", "__post_init__"})


@dataclass(slots=True)
class _Function:
    node: cst.FunctionDef
    class_key: str | None  # for a method, the key of its class (see _class_key); else None
    first_param: str | None
    globals: set[str] = field(default_factory=set)  # names it declares `global`


def _class_key(definitions: tuple[cst.FunctionDef | cst.ClassDef, ...]) -> str:
    """How the containers of the last of ``definitions`` (a class; its
    enclosing defs and classes before it) are keyed: by its dotted path from
    the module (``Outer.Inner``, as ``module_containers`` keys them) when no
    function encloses it, else by its own name."""
    if any(isinstance(definition, cst.FunctionDef) for definition in definitions):
        return definitions[-1].name.value
    return ".".join(definition.name.value for definition in definitions)


class UnboundedGlobalContainer(Rule):
    """Flags module- and class-level containers that functions grow and nothing ever shrinks.

    ## What it does
    Collects every module-level and class-level `list`, `dict`, `set`,
    `defaultdict`, `OrderedDict`, `Counter` and `deque()` without `maxlen`,
    then every place a function or method grows one (`append`, `add`,
    `update`, `setdefault`, `x[k] = v`, `+=`; reached by name, through
    `global`, `cls.x`, `ClassName.x` or `self.x`). A container is reported
    once, at its first growth site inside a function, when nothing in the
    module ever shrinks or bounds it: no `pop`, `popitem`, `remove`,
    `discard`, `clear`, `del x[k]`, rebinding, slice assignment, `len(x)`
    check, and the container is never handed to other code that could.

    Not reported: growth at import time (module-level code, decorators,
    functions called from module code, `register*`/`add*`/`load*`-style
    registration APIs), growth under a once-only flag or only while the
    container is empty, and containers of classes whose base class comes
    from another module (it may empty them). By default only growth that
    evidently stores something new per call or instance is reported: the
    instance itself (`x.append(self)`), an identity (`x[id(obj)] = obj`), or
    a value named as per-request data (`request_id`, `session`, `user`,
    `token`, `event`, `message`...); see the options for the broad forms.

    ## Why is this bad?
    A module or class outlives every request. Each call leaves one more
    object behind, so a long-running process grows until it is killed: the
    classic "global variable that accumulates" leak.

    ## Example
    ```python
    _live_connections = []

    class Connection:
        def __init__(self, sock):
            self.sock = sock
            _live_connections.append(self)
    ```

    ```python
    _frames = {}

    def wrap_frame(frame):
        _frames[id(frame)] = frame
        return id(frame)
    ```

    ```python
    _sessions = {}

    def login(user, token):
        _sessions[token] = user
    ```

    ## Use instead
    ```python
    import weakref

    _live_connections = weakref.WeakSet()

    class Connection:
        def __init__(self, sock):
            self.sock = sock
            _live_connections.add(self)
    ```

    ```python
    _frames = {}

    def wrap_frame(frame):
        _frames[id(frame)] = frame
        return id(frame)

    def release_frame(frame_id):
        del _frames[frame_id]
    ```

    ```python
    _handlers = {}

    def handler(name):
        def register(func):
            _handlers[name] = func
            return func
        return register

    @handler("ping")
    def ping():
        return "pong"
    ```

    ## Options
    - `global-container-any-growth` (default false): report every growth site, such as
      `_totals[name] = value`, not only those that evidently store per-call
      data. Registries of names and settings make this form noisy on
      library code; it suits services.
    - `global-container-memo-caches` (default false): also report containers the growing
      function looks the key up in first (`if k not in cache: cache[k] = ...`,
      `setdefault`, seen-sets): they are bounded by their key space, which
      only the programmer knows.

    ## Known limitations
    Opt-in: on the ecosystem check's fresh test set it was right 2 in 15 at
    first look (docs/ecosystem.md). Whether growth repeats per request, and
    how many keys or instances there are, is mostly decided in other modules
    (a singleton made by `main`, keys from configuration), which a one-module
    analysis cannot see. Enable it (`--select MEM101` or `extend-select`)
    to review a service's long-lived state.
    Only the module itself is read: a container shrunk from another module
    is reported, and one grown from another module is not. Functions whose
    names say they register (`register`, `add`, `install`, `set`, `load`,
    `bind`, ...) are trusted to be registration APIs.
    """

    code = "MEM101"
    default = False
    name = "unbounded-global-container"
    family = Family.LEAK
    message = (
        "{what} `{name}` (defined on line {line}) is grown here and nothing in the module ever shrinks it: "
        "bound it (`deque(maxlen=N)`, `cachetools.LRUCache`/`TTLCache`), evict old entries, "
        "or hold values in a `weakref.WeakValueDictionary`"
    )
    options = (
        Option("global-container-any-growth", False,
               "report every growth site, not only those that pin one object per call or instance "
               "(`x.append(self)`, `x[id(obj)] = obj`)", parse_bool),
        Option("global-container-memo-caches", False,
               "also report containers the growing function looks keys up in first (memo caches, seen-sets): "
               "bounded only by their key space", parse_bool),
    )
    seed = "a global container that only grows"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        module = context.module
        inheriting = inheriting_classes(module)
        self._containers: dict[str, Container] = {
            key: container for key, container in module_containers(module, context.names).items()
            if container.class_name is None or container.class_name not in inheriting
        }
        self._by_attr: dict[str, list[str]] = {}  # attribute name -> keys of class containers so named
        for key, container in self._containers.items():
            if container.class_name is not None:
                self._by_attr.setdefault(container.name, []).append(key)
        self._functions: dict[cst.FunctionDef, _Function] = {}  # every function, by its node
        self._shrunk: set[str] = set()
        # container key -> (growth site, the functions enclosing it, outermost first, its ancestors)
        self._growth: dict[str, list[tuple[cst.CSTNode, tuple[cst.FunctionDef, ...], Path]]] = {}
        self._lookups: dict[cst.FunctionDef, set[str]] = {}  # containers a function looks keys up in
        self._stores: set[cst.CSTNode] = set()  # subscripts that are store targets, not lookups
        self._decorators: set[str] = set()  # last segment of every decorator's name
        self._import_calls: set[str] = set()  # functions called (or deleted) by module or class-body code
        self._returns_param: set[cst.FunctionDef] = set()

    # -- scopes ---------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        first = first_parameter(node)
        definitions = self.context.where.definitions()
        class_key = _class_key(definitions[:-1]) if defining_class(definitions) is not None else None
        self._functions[node] = _Function(node, class_key, first)

    def _function(self) -> _Function | None:
        """The innermost function (None outside functions)."""
        function = self.context.where.function
        return None if function is None else self._functions[function]

    def visit_Global(self, node: cst.Global) -> None:
        function = self._function()
        if function is not None:
            function.globals.update(item.name.value for item in node.names)

    def _note_import_time_call(self, node: cst.Call) -> None:
        # A function called from module or class-body code runs at import time.
        if self.context.where.function is None and isinstance(node.func, cst.Name):
            self._import_calls.add(node.func.value)

    def visit_Decorator(self, node: cst.Decorator) -> None:
        target = node.decorator.func if isinstance(node.decorator, cst.Call) else node.decorator
        name = dotted_name(target)
        if name is not None:
            self._decorators.add(name.rsplit(".", 1)[-1])

    # -- events ---------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        self._note_import_time_call(node)
        self._record(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._record(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._record(node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._record(node)

    def visit_Del(self, node: cst.Del) -> None:
        if self.context.where.function is None and isinstance(node.target, (cst.Name, cst.Tuple)):
            # `del helper` after import-time use: the helper ran at import time.
            for target in [node.target] if isinstance(node.target, cst.Name) else [e.value for e in node.target.elements]:
                if isinstance(target, cst.Name):
                    self._import_calls.add(target.value)
        self._record(node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if node not in self._stores:
            self._note_lookup(node.value)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self._record(node)

    def visit_Yield(self, node: cst.Yield) -> None:
        self._record(node)

    def visit_Return(self, node: cst.Return) -> None:
        self._record(node)
        function = self.context.where.function
        if function is not None and isinstance(node.value, cst.Name):
            params = {p.name.value for p in function.params.params}
            if node.value.value in params:
                self._returns_param.add(function)

    def _note_lookup(self, expr: cst.BaseExpression) -> None:
        function = self._function() if self._containers else None
        if function is not None:
            for key in self._keys(expr, Event.GROW, function):
                self._lookups.setdefault(function.node, set()).add(key)

    def _record(self, node: cst.CSTNode) -> None:
        if not self._containers:
            return
        function = self._function()
        if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Del)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            self._stores.update(t for t in targets if isinstance(t, cst.Subscript))
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Subscript):
            self._stores.add(node.func.value)  # `x[k].append(v)` grows x[k], it does not look k up first
        for expr in lookups(node):
            self._note_lookup(expr)
        for event, expr in events(node, self.context.names):
            for key in self._keys(expr, event, function):
                container = self._containers[key]
                if event is Event.GROW or (event is Event.GROW_ITEM and container.kind in AUTO_INSERTING):
                    if function is not None:
                        where = self.context.where
                        self._growth.setdefault(key, []).append((node, where.functions(), where.parents))
                elif event is not Event.GROW_ITEM and not (event is Event.REBIND and function is None):
                    self._shrunk.add(key)

    def _keys(self, expr: cst.BaseExpression, event: Event, function: _Function | None) -> list[str]:
        """The tracked containers ``expr`` may name."""
        if isinstance(expr, cst.Attribute) and expr.attr.value in SHRINK_METHODS:
            expr, event = expr.value, Event.SHRINK  # `atexit.register(_cache.clear)`
        if isinstance(expr, cst.Name):
            name = expr.value
            if function is None:
                # Module level or a class body (no def encloses it): the enclosing classes name it.
                classes = self.context.where.definitions()
                key = f"{_class_key(classes)}.{name}" if classes else name
                return [key] if key in self._containers else ([name] if name in self._containers else [])
            if name in function.globals or self.context.names.binding_scope(name) in (None, self.context.names.module_scope):
                return [name] if name in self._containers else []
            return []
        if not isinstance(expr, cst.Attribute):
            return []
        attr = expr.attr.value
        base = dotted_name(expr.value)
        method = self._method()
        if method is not None and base == method.first_param and method.class_key is not None:
            key = f"{method.class_key}.{attr}"
            if key in self._containers:
                return [key]
        if base is not None:
            for key in self._by_attr.get(attr, ()):
                if key == f"{base}.{attr}" or key.endswith(f".{base}.{attr}"):
                    return [key]
        # Unknown owner: any shrink or assignment of an attribute of this
        # name might be an instance shadowing or evicting the class container.
        if event is not Event.GROW and event is not Event.GROW_ITEM:
            return list(self._by_attr.get(attr, ()))
        return []

    def _method(self) -> _Function | None:
        """The innermost enclosing method (a function defined in a class body)."""
        for node in reversed(self.context.where.functions()):
            candidate = self._functions[node]
            if candidate.class_key is not None:
                return candidate
        return None

    def finish(self) -> None:
        if not self._containers:
            return
        for key, sites in self._growth.items():
            if key in self._shrunk:
                continue
            site = next((node for node, chain, parents in sites if self._per_call(key, node, chain, parents)), None)
            if site is None:
                continue
            container = self._containers[key]
            line = definition_line(self.context.source, container.name, container.class_name.rsplit(".", 1)[-1]
                                   if container.class_name else None)
            what = f"class attribute {container.kind}" if container.class_name else f"module-level {container.kind}"
            self.report(site, self.message.format(what=what, name=key, line=line or "?"))

    def _per_call(self, key: str, node: cst.CSTNode, chain: tuple[cst.FunctionDef, ...], parents: Path) -> bool:
        """Whether a growth site may run again and again after import."""
        function = chain[-1]
        if any(self._runs_at_import(f) for f in chain) or in_decorator_factory(chain) or is_registration_api(function):
            return False
        if runs_once(function, node, parents) or fills_when_empty(function, node, key, parents):
            return False
        # By default only growth that pins one object per call or instance
        # (`x.append(self)`, `x[id(obj)] = obj`) or stores per-request data
        # (`seen.add(msg["id"])`) is reported: registries of names, types and
        # settings are bounded by the program, and which keys a plain
        # `x[k] = v` sees is not known statically.
        # A memo cache or a dedup set (`if k not in x: x[k] = ...`) is bounded
        # by its key space, which only the programmer knows (opt-in), unless
        # the key names who or which one a request is about: one entry per
        # message id or client address is a leak; one per warning text is not.
        # A get-or-create memo (`return cache[k]`) is a cache whatever its key.
        if key in self._lookups.get(function, ()) and not self.option("global-container-memo-caches") and (
            not keyed_by_identity(node) or returns_stored(function, node, self._containers[key].name)
        ):
            return False
        if not (self.option("global-container-any-growth") or pins_identity(node, chain) or stores_per_call_data(node)):
            return False
        # Asked last: the schedule reads the whole module, and most files never need it.
        return not schedule_of(self.context.module).runs_once(function)  # start-up code registers

    def _runs_at_import(self, function: cst.FunctionDef) -> bool:
        """Decorators (and functions returning what they receive) fill
        registries at import time, as do functions called from module code."""
        name = function.name.value
        class_key = self._functions[function].class_key
        if name in _CONSTRUCTORS and class_key is not None and class_key.rsplit(".", 1)[-1] in self._import_calls:
            # `REACHABLE = Status(True)` at module level: `Status.__init__`
            # filling `Status.lookup_table` is a registry of named constants.
            return True
        return name in self._decorators or name in self._import_calls or function in self._returns_param
