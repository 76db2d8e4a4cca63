"""The value side of the lifetime walk: descending into an expression, giving
each part its use, and keeping the books on every creation (bound, released,
escaped, reported).

``ExpressionWalk`` is the base of ``walk.FunctionWalk``, which adds the
statements and control flow; everything here works on the one ``State`` of
the path being walked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import libcst as cst

from memlint.analysis.resources import ResourceKind, is_lazy
from memlint.rules.resource._lifetime.findings import Finding, Reason
from memlint.rules.resource._lifetime.states import Frame, State, Status
from memlint.rules.resource._lifetime.syntax import child_expressions, unpacked_names
from memlint.tree.nodes import target_names
from memlint.rules.resource._lifetime.uses import (
    AttributeUse,
    Effect,
    Outcome,
    Use,
    argument_use,
    creation_outcome,
    held_effect,
)

# A recorded creation: the call, its kind, its callee's qualified name; keyed by id(call).
Creations = Mapping[int, tuple[cst.Call, ResourceKind, str]]
Resolve = Callable[[cst.BaseExpression], str | None]


class ExpressionWalk:
    """Expressions, bindings and the books of one function's walk."""

    def __init__(
        self, creations: Creations, resolve: Resolve, untracked: frozenset[str],
        self_name: str | None, track_locals: bool,
    ) -> None:
        self.creations = creations
        self.resolve = resolve
        self.untracked = untracked  # globals, nonlocals, names captured by closures
        self.self_name = self_name  # a method's first parameter: stores on it go to the class
        self.track_locals = track_locals  # False at module level: only dropped values count
        self.findings: dict[int, Finding] = {}
        self.self_stores: list[tuple[cst.Call, str]] = []  # (creation, attribute) stored on self
        self.handled: set[int] = set()  # released or escaped on some path
        # Never reported: expected to raise, maybe a mock, wrapping a file already
        # followed, probed in a `try`, or followed by the process's exit.
        self.ignored: set[int] = set()
        self.streams: frozenset[str] = frozenset()  # names used as file objects
        # Kept by the statement walk, read here:
        self.frames: list[Frame] = []  # enclosing loops and try-with-finally blocks
        self.released_in_try: list[set[int]] = []  # per enclosing `try`: what its body released
        self.finally_depth = 0  # inside a `finally`: any release is a safe one
        self.doubtful_depth = 0  # inside `with assertRaises(...)`/`with mock.patch(...)`

    def report(self, key: int, reason: Reason, detail: str = "") -> None:
        """The first reason found for a creation is the one reported."""
        if key not in self.findings and key in self.creations and key not in self.ignored:
            node, kind, callee = self.creations[key]
            self.findings[key] = Finding(node, kind, callee, reason, detail)

    # -- expressions -----------------------------------------------------
    def expr(self, node: cst.BaseExpression, use: Use | AttributeUse, state: State) -> int | None:
        """Apply ``use`` to ``node``'s value and walk its parts. Returns the
        creation key when ``node`` is a tracked creation its parent holds."""
        key = id(node)
        if key in self.creations:
            if self.doubtful_depth or self.wraps_local(node, state):  # type: ignore[arg-type]
                self.ignored.add(key)
            self.call_parts(node, state)  # type: ignore[arg-type]
            return self.use_creation(key, use)
        if isinstance(node, cst.Name):
            self.use_name(node.value, use, state)
            return None
        if isinstance(node, cst.Await):
            return self.expr(node.expression, use, state)
        if isinstance(node, cst.Call):
            self.call(node, state)
            return None
        if isinstance(node, cst.Attribute):
            # The attribute's own value goes where ``use`` takes it; a binding
            # or an outer attribute counts as handing it on.
            parent_use = use if isinstance(use, Use) and use is not Use.BIND else Use.ESCAPE
            self.expr(node.value, AttributeUse(node.attr.value, False, parent_use), state)
            return None
        if isinstance(node, (cst.Comparison, cst.BooleanOperation, cst.UnaryOperation)):
            self.walk_children(node, Use.NEUTRAL, state)
            return None
        if isinstance(node, cst.Subscript):
            self.expr(node.value, Use.NEUTRAL, state)
            for element in node.slice:
                self.walk_children(element, Use.ESCAPE, state)
            return None
        if isinstance(node, cst.FormattedString):
            self.walk_children(node, Use.NEUTRAL, state)
            return None
        if isinstance(node, cst.IfExp):
            self.expr(node.test, Use.NEUTRAL, state)
            self.expr(node.body, Use.ESCAPE, state)
            self.expr(node.orelse, Use.ESCAPE, state)
            return None
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp)):
            self.comprehension(node, state, iterate=Use.ITER)
            return None
        if isinstance(node, cst.GeneratorExp):
            self.comprehension(node, state, iterate=Use.ESCAPE)  # lazily keeps what it iterates
            return None
        if isinstance(node, cst.Lambda):
            self.expr(node.body, Use.ESCAPE, state)
            return None
        self.walk_children(node, Use.ESCAPE, state)
        return None

    def walk_children(self, node: cst.CSTNode, use: Use, state: State) -> None:
        for child in child_expressions(node):
            self.expr(child, use, state)

    def comprehension(
        self, node: cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp, state: State, iterate: Use,
    ) -> None:
        comp: cst.CompFor | None = node.for_in
        while comp is not None:
            self.expr(comp.iter, iterate, state)
            for condition in comp.ifs:
                self.expr(condition.test, Use.NEUTRAL, state)
            comp = comp.inner_for_in
        if isinstance(node, cst.DictComp):
            self.expr(node.key, Use.ESCAPE, state)
            self.expr(node.value, Use.ESCAPE, state)
        else:
            self.expr(node.elt, Use.ESCAPE, state)

    def call(self, node: cst.Call, state: State) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            self.expr(func.value, AttributeUse(func.attr.value, True, Use.ESCAPE, bare=not node.args), state)
        else:
            self.expr(func, Use.NEUTRAL, state)
        self.call_args(node, state)

    def wraps_local(self, node: cst.Call, state: State) -> bool:
        """``zipfile.ZipFile(f)`` over a file ``f`` this function already follows:
        the wrapper holds no descriptor of its own."""
        first = node.args[0].value if node.args and node.args[0].keyword is None else None
        return isinstance(first, cst.Name) and (bool(state.bindings.get(first.value)) or first.value in self.streams)

    def call_parts(self, node: cst.Call, state: State) -> None:
        """A creation's own callee and arguments (``gzip.GzipFile(fileobj=f)`` takes ``f``)."""
        if isinstance(node.func, cst.Attribute):
            self.expr(node.func.value, Use.NEUTRAL, state)
        self.call_args(node, state)

    def call_args(self, node: cst.Call, state: State) -> None:
        use = argument_use(node, self.resolve)
        for position, arg in enumerate(node.args):
            # `shutil.copyfileobj(src, dst)` reads only its first argument to the end.
            read_to_end = use is Use.READ_TO_END and position == 0 and arg.keyword is None
            self.expr(arg.value, Use.CONSUMER if use is Use.READ_TO_END and not read_to_end else use, state)

    def use_creation(self, key: int, use: Use | AttributeUse) -> int | None:
        call, kind, _ = self.creations[key]
        outcome = creation_outcome(use, call, kind)
        if outcome is Outcome.DROPPED:
            self.report(key, Reason.DROPPED)
        return key if outcome is Outcome.HELD else None

    def use_name(self, name: str, use: Use | AttributeUse, state: State) -> None:
        for key in state.bindings.get(name, ()):
            effect = held_effect(use, self.creations[key][1])
            if effect is Effect.RELEASE:
                self.release(key, state, safe=False)
            elif effect is Effect.SAFE_RELEASE:
                self.release(key, state, safe=True)
            elif effect is Effect.ESCAPE:
                self.escape(key, state)
            elif effect is Effect.CONNECT:
                statuses = state.status.get(key, frozenset())
                if Status.IDLE in statuses:
                    state.status[key] = (statuses - {Status.IDLE}) | {Status.OPEN}

    # -- bindings --------------------------------------------------------
    def assign(self, targets: list[cst.BaseExpression], value: cst.BaseExpression, state: State) -> None:
        single = targets[0] if len(targets) == 1 else None
        if isinstance(single, cst.Name) and self.track_locals and single.value not in self.untracked:
            created = self.expr(value, Use.BIND, state)
            if created is not None:
                self.bind(single.value, created, state)
                return
            held = state.bindings.get(value.value) if isinstance(value, cst.Name) else None
            self.rebind([single.value], state)
            if held:
                for key in held:  # an alias: the analysis stops following it
                    self.escape(key, state)
            return
        names = unpacked_names(single) if single is not None and self.track_locals else None
        if names and not set(names) & self.untracked:
            created = self.expr(value, Use.BIND, state)
            if created is not None:
                # `a, b = socket.socketpair()`: both names hold the pair; releasing
                # either is taken as releasing it (the analysis errs towards silence).
                for name in names:
                    self.bind(name, created, state)
                return
            self.rebind(names, state)
            return
        created = self.expr(value, Use.BIND, state)
        stored_on_self = (
            isinstance(single, cst.Attribute)
            and isinstance(single.value, cst.Name)
            and single.value.value == self.self_name
        )
        keys: Iterable[int] = ()
        if created is not None:
            keys = (created,)
        elif isinstance(value, cst.Name):
            keys = state.bindings.get(value.value, ())
        for key in keys:
            if stored_on_self:
                self.self_stores.append((self.creations[key][0], single.attr.value))  # type: ignore[union-attr]
            self.escape(key, state)
        for target in targets:
            self.rebind(target_names(target), state)
            if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
                # `conn.sock = FakeSocket()`: the object is being rewired; stop following it.
                for key in state.bindings.get(target.value.value, ()):
                    self.escape(key, state)
            elif not isinstance(target, cst.Name):
                self.expr(target, Use.NEUTRAL, state)

    def bind(self, name: str, key: int, state: State) -> None:
        if not self.track_locals or name in self.untracked:
            self.escape(key, state)
            return
        self.rebind([name], state, incoming=key)
        state.bindings[name] = frozenset({key})
        call, kind, _ = self.creations[key]
        state.set(key, Status.IDLE if is_lazy(call, kind) else Status.OPEN)

    def rebind(self, names: Iterable[str], state: State, incoming: int | None = None) -> None:
        """``names`` get new values: objects they held that are surely open leak."""
        for name in names:
            for key in state.bindings.pop(name, frozenset()):
                statuses = state.status.get(key, frozenset())
                if Status.OPEN in statuses and Status.NONE not in statuses:
                    if key == incoming and self.frames and self.frames[-1].is_loop:
                        self.report(key, Reason.LOOP)
                    else:
                        self.report(key, Reason.REBOUND)
                state.status[key] = (statuses - {Status.OPEN}) | {Status.GONE} if statuses else frozenset({Status.GONE})

    def escape(self, key: int, state: State) -> None:
        self.handled.add(key)
        state.set(key, Status.GONE)

    def release(self, key: int, state: State, safe: bool) -> None:
        self.handled.add(key)
        for released in self.released_in_try:
            released.add(key)
        state.set(key, Status.DONE if safe or self.finally_depth else Status.PLAIN)
