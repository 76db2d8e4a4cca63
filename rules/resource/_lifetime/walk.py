"""Where does a resource go? The lifetime analysis behind MEM201-MEM204.

One walk per function that creates a resource follows each resource's
abstract state along every path. ``ownership`` answers the class-level
question (does a teardown release ``self.x``?) and ``resource_rule`` is the
rule side that records creations and runs these walks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

import libcst as cst

from memlint.analysis.resources import (
    CALLBACK_METHODS,
    NON_OWNING_CONSUMERS,
    NON_OWNING_METHODS,
    RELEASING_METHODS,
    RELEASING_WRAPPERS,
    ResourceKind,
    is_lazy,
)
from memlint.tree.walk import children

OPEN: Final = "open"
PLAIN: Final = "plain"
DONE: Final = "done"
GONE: Final = "gone"
NONE: Final = "none"
IDLE: Final = "idle"  # a lazy client that has not connected yet
_HANDLED: Final = frozenset({PLAIN, DONE, GONE})

# Methods that end a resource's life whatever its type (ownership moves on).
TRANSFER_METHODS: Final = frozenset({"detach", "__exit__", "__aexit__", "__enter__", "__aenter__", "release"})
# Attributes that identify the resource to other code: handing one on
# (`support.wait_process(proc.pid)`) may hand on its release.
_HANDLES: Final = frozenset({"pid"})
# Names of methods that tear an object down: a class with one of them owns
# what it stores on ``self`` and must release it there.
TEARDOWN_METHODS: Final = frozenset({
    "close", "aclose", "stop", "shutdown", "terminate", "cleanup", "dispose", "disconnect",
    "teardown", "tearDown", "__exit__", "__aexit__", "__del__", "server_close", "release",
})
_EXIT_CALLS: Final = frozenset({
    "sys.exit", "os._exit", "os.abort", "builtins.exit", "builtins.quit", "pytest.fail", "pytest.skip", "pytest.exit",
})
# `self.fail(...)` in a test case raises.
_EXIT_METHODS: Final = frozenset({"fail", "skipTest"})
# Context managers that expect their body to raise: a creation inside is
# there to fail (`with self.assertRaises(ValueError): open(bad)`).
_EXPECT_RAISE: Final = frozenset({
    "assertRaises", "assertRaisesRegex", "assertRaisesRegexp", "assertWarns", "assertWarnsRegex", "raises", "warns",
    # `with mock.patch("builtins.open", ...)`: what is created inside may be a mock.
    "patch", "object",
})
# Methods that only a file object has: a name they are called on is a stream, not a path.
_STREAM_METHODS: Final = frozenset({"read", "readline", "readlines", "seek", "tell", "write", "fileno", "flush"})
# Methods whose bound form handed to other code keeps the object alive there
# (`tracer.setwriter(err.write)`, `Thread(target=sock.recv)`): the object's
# life is that code's business now, as when the object itself is passed.
_BOUND_HANDOFFS: Final = _STREAM_METHODS | frozenset({
    "writelines", "send", "sendall", "sendto", "recv", "recv_into", "recvfrom", "accept", "makefile",
    "submit", "map", "apply_async", "execute", "cursor", "commit",
})


class Reason(Enum):
    """Why a creation is reported."""

    DROPPED = "dropped"  # used once and dropped: `open(p).read()`, a bare call
    NEVER = "never"  # bound to a local, released on no path
    SKIPPED = "skipped"  # released on some paths, an early exit skips it
    REBOUND = "rebound"  # the name is re-bound while the object is open
    LOOP = "loop"  # created in a loop, the next iteration drops it
    NOT_IN_FINALLY = "not-in-finally"  # strict: an exception skips the release
    WITH_ONLY_COMMITS = "with-only-commits"  # `with sqlite3.connect()` does not close
    CLASS_FORGETS = "class-forgets"  # stored on self; no teardown method releases it


@dataclass(frozen=True, slots=True)
class Finding:
    """A creation that leaks, and why."""

    node: cst.Call
    kind: ResourceKind
    callee: str
    reason: Reason
    detail: str = ""  # the attribute for CLASS_FORGETS


# -- the abstract state -------------------------------------------------------

@dataclass(slots=True)
class State:
    """What local names hold, and what may have happened to each object."""

    bindings: dict[str, frozenset[int]] = field(default_factory=dict)
    status: dict[int, frozenset[str]] = field(default_factory=dict)

    def copy(self) -> State:
        return State(dict(self.bindings), dict(self.status))

    def set(self, key: int, value: str) -> None:
        self.status[key] = frozenset({value})


def join(states: Iterable[State | None]) -> State | None:
    """Merge the states of several paths; None (unreachable) is neutral."""
    live = [s for s in states if s is not None]
    if not live:
        return None
    if len(live) == 1:
        return live[0].copy()
    out = State()
    names = set().union(*(s.bindings for s in live))
    for name in names:
        out.bindings[name] = frozenset().union(*(s.bindings.get(name, frozenset()) for s in live))
    keys = set().union(*(s.status for s in live))
    for key in keys:
        out.status[key] = frozenset().union(*(s.status.get(key, frozenset({NONE})) for s in live))
    return out


# -- how an expression's value is used by its parent --------------------------

class Use(Enum):
    DROP = "drop"  # expression statement
    NEUTRAL = "neutral"  # read without taking it over: tests, indexing, f-strings
    CONSUMER = "consumer"  # argument of a known non-owning consumer
    ITER = "iter"  # iterated by `for`/a list comprehension
    RELEASE = "release"  # argument of `closing()` / `enter_context()`
    CALLBACK = "callback"  # argument of `stack.callback()`
    WITH = "with"  # a with item
    ESCAPE = "escape"  # anything else: returned, stored, handed off, unknown


@dataclass(frozen=True, slots=True)
class _Attr:
    """The value is the receiver of ``.name`` (called or not)."""

    name: str
    called: bool
    parent_use: Use


# -- the per-function walk ----------------------------------------------------

@dataclass(slots=True)
class _Frame:
    """Exits collected inside a loop or a try-with-finally."""

    is_loop: bool
    returns: list[State] = field(default_factory=list)
    breaks: list[State] = field(default_factory=list)
    continues: list[State] = field(default_factory=list)


class FunctionWalk:
    """Walks one function body (or a script's ``__main__`` block).

    A rule records the resource-creating calls it cares about during the engine's
    walk (``ResourceRule.visit_Call``); when a function ends (or, for scripts, the
    module) the statements of that function are walked once more, path by path,
    with a small abstract state: which local names hold which created objects,
    and for each object the set of things that may have happened to it on the
    paths reaching this point:

    - ``open``: created, not yet released;
    - ``plain``: released by a plain call (``f.close()``) outside a ``finally``;
    - ``done``: released safely (``with``, ``finally``, ``closing``, ``ExitStack``);
    - ``gone``: ownership left the function (returned, stored, handed to a call)
      or the analysis is not sure where it went - never reported;
    - ``none``: not created on this path (a conditional creation);
    - ``idle``: a lazy client (``HTTPConnection``) that has not connected yet.

    Precision comes first: whatever is not understood counts as ``gone``. A leak
    is reported only where it is certain on the paths the analysis can see: a
    value dropped right away (``open(p).read()``), a local never released, a name
    re-bound while it still holds an open object, a normal exit (``return``, end
    of function, next loop iteration) reached with the object open on a path on
    which it was surely created. Exceptions only matter under ``strict``.
    """

    def __init__(
        self,
        creations: Mapping[int, tuple[cst.Call, ResourceKind, str]],
        resolve: Callable[[cst.BaseExpression], str | None],
        untracked: frozenset[str],
        self_name: str | None,
        strict: bool,
        track_locals: bool = True,
    ) -> None:
        self.creations = creations
        self.resolve = resolve
        self.untracked = untracked  # globals, nonlocals, names captured by closures
        self.self_name = self_name
        self.strict = strict
        self.track_locals = track_locals
        self.findings: dict[int, Finding] = {}
        self.self_stores: list[tuple[cst.Call, str]] = []
        self.handled: set[int] = set()  # released or escaped on some path
        self.loop_rebinds: dict[int, cst.CSTNode] = {}  # creation -> loop it re-binds each iteration
        self.frames: list[_Frame] = []
        self.exits: list[State] = []
        self.handler_entries: list[list[State]] = []
        self.released_in_try: list[set[int]] = []
        self.ignored: set[int] = set()  # creations expected to raise
        self.expect_raise = 0
        self.finally_depth = 0
        self.streams: frozenset[str] = frozenset()
        self.body: Sequence[cst.CSTNode] = ()  # the walked function's statements

    # -- results ---------------------------------------------------------
    def run(self, body: Sequence[cst.BaseStatement]) -> list[Finding]:
        self.streams = _stream_names(body)
        self.body = body
        end = self.block(body, State())
        if end is not None:
            self.exits.append(end)
        for state in self.exits:
            self.check_exit(state)
        if self.strict:
            final = join(self.exits)
            for key, statuses in (final.status.items() if final else ()):
                if PLAIN in statuses and OPEN not in statuses:
                    self.report(key, Reason.NOT_IN_FINALLY)
        return list(self.findings.values())

    def report(self, key: int, reason: Reason, detail: str = "") -> None:
        if key not in self.findings and key in self.creations and key not in self.ignored:
            node, kind, callee = self.creations[key]
            self.findings[key] = Finding(node, kind, callee, reason, detail)

    def check_exit(self, state: State, loop: cst.CSTNode | None = None) -> None:
        """An exit (return, end of body, next iteration): open objects leak."""
        for key, statuses in state.status.items():
            if OPEN not in statuses:
                continue
            if loop is not None and self.loop_rebinds.get(key) is not loop:
                continue
            if not statuses & _HANDLED and key not in self.handled:
                self.report(key, Reason.LOOP if loop is not None else Reason.NEVER)
            elif NONE not in statuses:
                self.report(key, Reason.LOOP if loop is not None else Reason.SKIPPED)

    # -- statements ------------------------------------------------------
    def block(self, body: Sequence[cst.BaseStatement] | Sequence[cst.BaseSmallStatement], state: State | None) -> State | None:
        for index, statement in enumerate(body):
            if state is None:
                return None  # unreachable code
            if index + 1 < len(body) and self.exits_process(body[index + 1]):
                # `Popen(cmd)` then `os._exit(0)`: the process ends, nothing leaks.
                self.ignored.update(key for key in _node_ids(statement) if key in self.creations)
            state = self.statement(statement, state)
        return state

    def exits_process(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.SimpleStatementLine):
            node = node.body[0]
        return isinstance(node, cst.Expr) and isinstance(node.value, cst.Call) and _never_returns(node.value, self.resolve)

    def statement(self, node: cst.CSTNode, state: State) -> State | None:
        if self.handler_entries:
            self.handler_entries[-1].append(state.copy())
        if isinstance(node, cst.SimpleStatementLine):
            return self.block(node.body, state)
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is None:
            return state  # nested def/class: another scope
        return method(node, state)  # type: ignore[no-any-return]

    def stmt_Expr(self, node: cst.Expr, state: State) -> State | None:
        value = node.value
        self.expr(value, Use.DROP, state)
        if isinstance(value, cst.Call) and _never_returns(value, self.resolve):
            return None  # sys.exit(), self.fail(): no normal path goes on
        return state

    def stmt_Assign(self, node: cst.Assign, state: State) -> State | None:
        targets = [t.target for t in node.targets]
        self.assign(targets, node.value, state)
        return state

    def stmt_AnnAssign(self, node: cst.AnnAssign, state: State) -> State | None:
        if node.value is not None:
            self.assign([node.target], node.value, state)
        return state

    def stmt_AugAssign(self, node: cst.AugAssign, state: State) -> State | None:
        self.expr(node.value, Use.ESCAPE, state)
        self.expr(node.target, Use.NEUTRAL, state)
        return state

    def stmt_Return(self, node: cst.Return, state: State) -> State | None:
        if node.value is not None:
            self.expr(node.value, Use.ESCAPE, state)
        for frame in reversed(self.frames):
            if not frame.is_loop:
                frame.returns.append(state)
                return None
        self.exits.append(state)
        return None

    def stmt_Raise(self, node: cst.Raise, state: State) -> State | None:
        if node.exc is not None:
            self.expr(node.exc, Use.ESCAPE, state)
        return None

    def stmt_Break(self, node: cst.Break, state: State) -> State | None:
        if self.frames:
            self.frames[-1].breaks.append(state)
        return None

    def stmt_Continue(self, node: cst.Continue, state: State) -> State | None:
        if self.frames:
            self.frames[-1].continues.append(state)
        return None

    def stmt_Del(self, node: cst.Del, state: State) -> State | None:
        for name in _names(node.target):
            for key in state.bindings.pop(name, frozenset()):
                self.escape(key, state)
        self.expr(node.target, Use.NEUTRAL, state)
        return state

    def stmt_Assert(self, node: cst.Assert, state: State) -> State | None:
        self.expr(node.test, Use.NEUTRAL, state)
        return state

    def stmt_Global(self, node: cst.Global, state: State) -> State | None:
        return state

    stmt_Nonlocal = stmt_Global
    stmt_Pass = stmt_Global
    stmt_Import = stmt_Global
    stmt_ImportFrom = stmt_Global

    def stmt_If(self, node: cst.If, state: State) -> State | None:
        self.expr(node.test, Use.NEUTRAL, state)
        # `if f:` / `if f is not None:` correlates with how `f` was bound:
        # the analysis cannot tell which branch runs, so it stays unsure.
        guarded = {key for name in _bare_names(node.test) for key in state.bindings.get(name, ())}
        branches = []
        for body in (node.body.body, node.orelse):
            entry = state.copy()
            for key in guarded:
                entry.status[key] = entry.status.get(key, frozenset()) | {NONE}
            if body is None:
                branches.append(entry)
            elif isinstance(body, cst.If):
                branches.append(self.stmt_If(body, entry))
            elif isinstance(body, cst.Else):
                branches.append(self.block(body.body.body, entry))
            else:
                branches.append(self.block(body, entry))  # type: ignore[arg-type]
        out = join(branches)
        if out is not None:
            for key in guarded:
                statuses = out.status.get(key, frozenset())
                if statuses & _HANDLED:
                    out.status[key] = statuses - {OPEN}
        return out

    def stmt_Match(self, node: cst.Match, state: State) -> State | None:
        self.expr(node.subject, Use.NEUTRAL, state)
        last = node.cases[-1].pattern if node.cases else None
        irrefutable = isinstance(last, cst.MatchAs) and last.pattern is None and node.cases[-1].guard is None
        branches: list[State | None] = [] if irrefutable else [state.copy()]
        for case in node.cases:
            branches.append(self.block(case.body.body, state.copy()))
        return join(branches)

    def stmt_With(self, node: cst.With, state: State) -> State | None:
        expects_raise = any(
            isinstance(item.item, cst.Call) and isinstance(item.item.func, (cst.Attribute, cst.Name))
            and _last_name(item.item.func) in _EXPECT_RAISE
            for item in node.items
        )
        if expects_raise:
            self.expect_raise += 1
            try:
                return self.with_body(node, state)
            finally:
                self.expect_raise -= 1
        return self.with_body(node, state)

    def with_body(self, node: cst.With, state: State) -> State | None:
        for item in node.items:
            bound = self.expr(item.item, Use.WITH, state)
            target = item.asname.name if item.asname is not None else None
            if target is not None:
                self.expr(target, Use.NEUTRAL, state)
                if bound is not None and isinstance(target, cst.Name):
                    self.bind(target.value, bound, state)
                else:
                    self.rebind(_names(target), state)
            elif bound is not None:
                self.report(bound, Reason.WITH_ONLY_COMMITS)
        return self.block(node.body.body, state)

    def stmt_For(self, node: cst.For, state: State) -> State | None:
        self.expr(node.iter, Use.ITER, state)
        targets = _names(node.target)

        def start(entry: State) -> State:
            self.rebind(targets, entry)  # each iteration re-binds the loop variable
            return entry

        return self.loop(node, state, start)

    def stmt_While(self, node: cst.While, state: State) -> State | None:
        self.expr(node.test, Use.NEUTRAL, state)
        return self.loop(node, state, lambda s: s)

    def loop(self, node: cst.For | cst.While, state: State, start: Callable[[State], State]) -> State | None:
        endless = isinstance(node, cst.While) and _constant_true(node.test)
        self.note_loop_rebinds(node)
        head = state
        frame = _Frame(is_loop=True)
        for _ in range(3):  # statuses only grow: a few rounds reach the fixpoint
            frame = _Frame(is_loop=True)
            self.frames.append(frame)
            try:
                end = self.block(node.body.body, start(head.copy()))
            finally:
                self.frames.pop()
            new_head = join([state, end, *frame.continues])
            if new_head is None or new_head == head:
                break
            head = new_head
        for back in [end, *frame.continues]:
            if back is not None:
                self.check_exit(back, loop=node)
        self.check_breaks(node, frame.breaks)
        leaving: list[State | None] = list(frame.breaks)
        if not endless:
            normal = head.copy()
            if node.orelse is not None:
                normal = self.block(node.orelse.body.body, normal)  # type: ignore[assignment]
            leaving.append(normal)
        return join(leaving)

    def check_breaks(self, loop: cst.For | cst.While, breaks: list[State]) -> None:
        """A ``break`` that leaves an object open which the loop releases on its
        other paths, held by a name nothing after the loop reads: the break
        skips the release (joined with the paths that never entered the loop,
        the function's end could not tell)."""
        inside: set[int] | None = None
        later: set[str] | None = None
        for state in breaks:
            for key, statuses in state.status.items():
                if statuses != {OPEN} or key not in self.handled:
                    continue
                if inside is None:
                    inside = set(_node_ids(loop.body))
                holders = {name for name, keys in state.bindings.items() if key in keys}
                if key not in inside or not holders:
                    continue
                if later is None:
                    later = {name for statement in self.body for name in names_in(statement, skip=loop)}
                if not holders & later:
                    self.report(key, Reason.SKIPPED)

    def note_loop_rebinds(self, node: cst.For | cst.While) -> None:
        """Creations that each iteration surely re-binds before reading the
        name again (``f = open(p)`` at the top level of the body, the name not
        used above it): an object still open at the end of an iteration is lost."""
        seen: set[str] = set()
        for statement in node.body.body:
            if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
                small = statement.body[0]
                if (
                    isinstance(small, cst.Assign) and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and id(small.value) in self.creations
                    and small.targets[0].target.value not in seen
                ):
                    self.loop_rebinds[id(small.value)] = node
            seen.update(names_in(statement))

    def stmt_ClassDef(self, node: cst.ClassDef, state: State) -> State | None:
        if not self.track_locals:  # module level: class attributes, dropped values only
            self.block(node.body.body, state.copy())
        return state

    def stmt_Try(self, node: cst.Try | cst.TryStar, state: State) -> State | None:
        frame = _Frame(is_loop=False) if node.finalbody is not None else None
        if frame is not None:
            self.frames.append(frame)
        try:
            entries: list[State] = [state.copy()]
            self.handler_entries.append(entries)
            self.released_in_try.append(released := set())
            if node.handlers:
                self.ignore_probes(node.body.body)
            try:
                body_end = self.block(node.body.body, state)
            finally:
                self.handler_entries.pop()
                self.released_in_try.pop()
            # A release that raises is still an attempted release: the
            # handler does not know whether it ran, so it stays unsure.
            for entry in entries:
                for key in released & entry.status.keys():
                    entry.status[key] = entry.status[key] | {NONE}
            if node.orelse is not None and body_end is not None:
                body_end = self.block(node.orelse.body.body, body_end)
            outcomes = [body_end]
            handler_entry = join(entries)
            for handler in node.handlers:
                if handler_entry is None:
                    break
                entry = handler_entry.copy()
                if handler.name is not None:
                    self.rebind(_names(handler.name.name), entry)
                outcomes.append(self.block(handler.body.body, entry))
        finally:
            if frame is not None:
                self.frames.pop()
        out = join(outcomes)
        if frame is None or node.finalbody is None:
            return out
        return self.through_finally(node.finalbody.body.body, out, frame)

    stmt_TryStar = stmt_Try

    def ignore_probes(self, body: Sequence[cst.BaseStatement]) -> None:
        """``try: open(path)`` with handlers: a bare creation is there to see
        whether it raises."""
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Expr) and id(small.value) in self.creations:
                        self.ignored.add(id(small.value))

    def through_finally(self, body: Sequence[cst.BaseStatement], out: State | None, frame: _Frame) -> State | None:
        """Run the finally block on every way out of the try: fall through,
        return, break, continue (each group merged, to stay linear)."""
        self.finally_depth += 1
        try:
            result = self.block(body, out) if out is not None else None
            groups = (("returns", frame.returns), ("breaks", frame.breaks), ("continues", frame.continues))
            for what, states in groups:
                merged = join(states)
                if merged is None:
                    continue
                after = self.block(body, merged)
                if after is None:
                    continue
                if what == "returns":
                    self.stmt_Return(cst.Return(value=None), after)
                elif what == "breaks":
                    self.stmt_Break(cst.Break(), after)
                else:
                    self.stmt_Continue(cst.Continue(), after)
        finally:
            self.finally_depth -= 1
        return result

    # -- bindings --------------------------------------------------------
    def assign(self, targets: list[cst.BaseExpression], value: cst.BaseExpression, state: State) -> None:
        single = targets[0] if len(targets) == 1 else None
        if isinstance(single, cst.Name) and self.track_locals and single.value not in self.untracked:
            created = self.expr(value, _BIND, state)
            if created is not None:
                self.bind(single.value, created, state)
                return
            held = state.bindings.get(value.value) if isinstance(value, cst.Name) else None
            self.rebind([single.value], state)
            if held:
                for key in held:  # an alias: the analysis stops following it
                    self.escape(key, state)
            return
        names = _unpacked_names(single) if single is not None and self.track_locals else None
        if names and not set(names) & self.untracked:
            created = self.expr(value, _BIND, state)
            if created is not None:
                # `a, b = socket.socketpair()`: both names hold the pair; releasing
                # either is taken as releasing it (the analysis errs towards silence).
                for name in names:
                    self.bind(name, created, state)
                return
            self.rebind(names, state)
            return
        created = self.expr(value, _BIND, state)
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
            self.rebind(_names(target), state)
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
        state.set(key, IDLE if is_lazy(call, kind) else OPEN)

    def rebind(self, names: Iterable[str], state: State, incoming: int | None = None) -> None:
        """``names`` get new values: objects they held that are surely open leak."""
        for name in names:
            for key in state.bindings.pop(name, frozenset()):
                statuses = state.status.get(key, frozenset())
                if OPEN in statuses and NONE not in statuses:
                    if key == incoming and self.frames and self.frames[-1].is_loop:
                        self.report(key, Reason.LOOP)
                    else:
                        self.report(key, Reason.REBOUND)
                state.status[key] = (statuses - {OPEN}) | {GONE} if statuses else frozenset({GONE})

    def escape(self, key: int, state: State) -> None:
        self.handled.add(key)
        state.set(key, GONE)

    def release(self, key: int, state: State, safe: bool) -> None:
        self.handled.add(key)
        for released in self.released_in_try:
            released.add(key)
        state.set(key, DONE if safe or self.finally_depth else PLAIN)

    # -- expressions -----------------------------------------------------
    def expr(self, node: cst.BaseExpression, use: Use | _Attr | object, state: State) -> int | None:
        """Apply ``use`` to ``node``'s value and walk its parts. Returns the
        creation key when ``node`` is a tracked creation and ``use`` binds it."""
        key = id(node)
        if key in self.creations:
            if self.expect_raise or self.wraps_local(node, state):  # type: ignore[arg-type]
                self.ignored.add(key)
            self.call_parts(node, state)  # type: ignore[arg-type]
            return self.use_creation(key, use, state)
        if isinstance(node, cst.Name):
            self.use_name(node.value, use, state)
            return None
        if isinstance(node, (cst.Await,)):
            return self.expr(node.expression, use, state)
        if isinstance(node, cst.Call):
            self.call(node, state)
            return None
        if isinstance(node, cst.Attribute):
            self.expr(node.value, _Attr(node.attr.value, False, use if isinstance(use, Use) else Use.ESCAPE), state)
            return None
        if isinstance(node, (cst.Comparison, cst.BooleanOperation, cst.UnaryOperation)):
            for child in _child_expressions(node):
                self.expr(child, Use.NEUTRAL, state)
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
        for child in _child_expressions(node):
            self.expr(child, use, state)

    def comprehension(self, node: cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp, state: State, iterate: Use) -> None:
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
            self.expr(func.value, _Attr(func.attr.value, True, Use.ESCAPE), state)
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
        use = self.argument_use(node)
        for arg in node.args:
            self.expr(arg.value, use, state)

    def argument_use(self, node: cst.Call) -> Use:
        func = node.func
        name = self.resolve(func)
        if name in NON_OWNING_CONSUMERS:
            return Use.CONSUMER
        if name in RELEASING_WRAPPERS:
            return Use.RELEASE
        if isinstance(func, cst.Attribute):
            if func.attr.value in NON_OWNING_METHODS:
                return Use.CONSUMER
            if func.attr.value in RELEASING_METHODS:
                return Use.RELEASE
            if func.attr.value in CALLBACK_METHODS:
                return Use.CALLBACK
        return Use.ESCAPE

    def use_creation(self, key: int, use: Use | _Attr | object, state: State) -> int | None:
        call, kind, _ = self.creations[key]
        if use is _BIND:
            return key
        lazy = is_lazy(call, kind)
        if isinstance(use, _Attr):
            if use.called and (use.name in kind.release or use.name in TRANSFER_METHODS):
                return None
            if not lazy or (use.called and use.name in kind.opens_on):
                self.report(key, Reason.DROPPED)
        elif use in (Use.DROP, Use.CONSUMER, Use.ITER) and not lazy:
            self.report(key, Reason.DROPPED)
        elif use is Use.WITH and not kind.with_releases:
            return key  # `with sqlite3.connect() as c:` binds an open connection
        return None

    def use_name(self, name: str, use: Use | _Attr | object, state: State) -> None:
        keys = state.bindings.get(name)
        if not keys:
            return
        for key in keys:
            kind = self.creations[key][1]
            if isinstance(use, _Attr):
                if use.name in kind.release:
                    if use.called:
                        self.release(key, state, safe=False)
                    elif use.parent_use is Use.CALLBACK:
                        self.release(key, state, safe=True)
                    else:
                        self.escape(key, state)  # `atexit.register(f.close)`: someone else closes it
                elif use.name in TRANSFER_METHODS:
                    self.escape(key, state)
                elif use.name in _HANDLES and not use.called and use.parent_use is Use.ESCAPE:
                    self.escape(key, state)  # `reap(proc.pid)`: other code may wait for it by pid
                elif use.name in _BOUND_HANDOFFS and not use.called and use.parent_use in (Use.ESCAPE, Use.CALLBACK):
                    self.escape(key, state)
                elif use.called and use.name in kind.opens_on:
                    statuses = state.status.get(key, frozenset())
                    if IDLE in statuses:
                        state.status[key] = (statuses - {IDLE}) | {OPEN}
            elif use is Use.RELEASE or (use is Use.WITH and kind.with_releases):
                self.release(key, state, safe=True)
            elif use in (Use.ESCAPE, Use.CALLBACK, _BIND):
                self.escape(key, state)


_BIND: Final = object()  # the value is bound to a name by the caller


def _stream_names(body: Sequence[cst.CSTNode]) -> frozenset[str]:
    """Names some file-only method is called on (``f.seek(0)``): streams."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = list(body)
    while stack:
        node = stack.pop()
        if (
            isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
            and node.attr.value in _STREAM_METHODS
        ):
            found.add(node.value.value)
        stack.extend(children(node))
    return frozenset(found)


def _node_ids(node: cst.CSTNode) -> Iterator[int]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield id(current)
        stack.extend(children(current))


def _last_name(func: cst.BaseExpression) -> str:
    return func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""


def _never_returns(call: cst.Call, resolve: Callable[[cst.BaseExpression], str | None]) -> bool:
    if resolve(call.func) in _EXIT_CALLS:
        return True
    func = call.func
    return (
        isinstance(func, cst.Attribute) and func.attr.value in _EXIT_METHODS
        and isinstance(func.value, cst.Name) and func.value.value == "self"
    )


def _constant_true(test: cst.BaseExpression) -> bool:
    return (isinstance(test, cst.Name) and test.value == "True") or (
        isinstance(test, cst.Integer) and test.value not in ("0", "0x0")
    )


def _child_expressions(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """The nearest expression descendants of ``node`` (through Arg, Element...)."""
    for child in children(node):
        if isinstance(child, cst.BaseExpression):
            yield child
        elif not isinstance(child, (cst.BaseSuite, cst.BaseStatement)):
            yield from _child_expressions(child)


def _names(target: cst.CSTNode) -> list[str]:
    """Names bound by an assignment target (``a``, ``a, b``, ``*rest``)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [name for element in target.elements for name in _names(element.value)]
    if isinstance(target, cst.StarredElement):
        return _names(target.value)
    if isinstance(target, cst.Del):
        return _names(target.target)
    return []


def _bare_names(expr: cst.CSTNode) -> set[str]:
    """Names used as values in ``expr`` (not as ``x.attr`` receivers)."""
    found: set[str] = set()
    if isinstance(expr, cst.Name):
        found.add(expr.value)
    elif isinstance(expr, cst.Attribute):
        pass
    elif isinstance(expr, cst.Call):
        for arg in expr.args:
            found |= _bare_names(arg.value)
    else:
        for child in children(expr):
            found |= _bare_names(child)
    return found


def _unpacked_names(target: cst.BaseExpression) -> list[str] | None:
    """``a, b`` / ``[a, b]`` of plain names (no starred element), else None."""
    if not isinstance(target, (cst.Tuple, cst.List)) or not target.elements:
        return None
    names = [element.value.value for element in target.elements
             if isinstance(element, cst.Element) and isinstance(element.value, cst.Name)]
    return names if len(names) == len(target.elements) else None


def names_in(node: cst.CSTNode, skip: cst.CSTNode | None = None) -> Iterator[str]:
    """Every identifier read or written inside ``node``, outside the subtree ``skip``."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current is skip:
            continue
        if isinstance(current, cst.Name):
            yield current.value
        stack.extend(children(current))


def untracked_names(body: Sequence[cst.CSTNode]) -> frozenset[str]:
    """Names of a body the walk must not follow: ``global``/``nonlocal``
    names and names a nested function, lambda or class reads (a closure may
    close the object later, or keep it)."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Global, cst.Nonlocal)):
            found.update(item.name.value for item in node.names)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            found.update(names_in(node))
            continue
        stack.extend(children(node))
    return frozenset(found)


__all__ = [
    "TEARDOWN_METHODS",
    "TRANSFER_METHODS",
    "Finding",
    "FunctionWalk",
    "Reason",
    "State",
    "join",
    "untracked_names",
]
