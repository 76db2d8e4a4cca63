"""The statement walk: one function body, path by path.

A rule records the resource-creating calls it cares about during the engine's
walk (``ResourceRule.visit_Call``); when a function ends (or, for scripts, the
module) the statements of that function are walked once more, path by path,
with the small abstract state of ``states``: which local names hold which
created objects, and what may have happened to each on the paths reaching
this point. Branches are walked separately and joined; loops are walked to
a fixpoint; ``try``/``finally`` runs the ``finally`` on every way out.

Precision comes first: whatever is not understood counts as ``GONE``. A leak
is reported only where it is certain on the paths the analysis can see: a
value dropped right away (``open(p).read()``), a local never released, a name
re-bound while it still holds an open object, a normal exit (``return``, end
of function, next loop iteration) reached with the object open on a path on
which it was surely created. Exceptions only matter under ``strict``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst

from memlint.analysis.raising import expects_raise
from memlint.rules.resource._lifetime.expressions import Creations, ExpressionWalk, Resolve
from memlint.rules.resource._lifetime.findings import Finding, Reason
from memlint.rules.resource._lifetime.states import HANDLED, Frame, State, Status, join
from memlint.rules.resource._lifetime.syntax import (
    bare_names,
    names_in,
    node_ids,
    stream_names,
)
from memlint.rules.resource._lifetime.tables import EXIT_CALLS, MOCKING_CONTEXTS
from memlint.rules.resource._lifetime.uses import Use
from memlint.analysis.loops import is_constant_true
from memlint.tree.names import dotted_name
from memlint.tree.nodes import last_segment, target_names


class FunctionWalk(ExpressionWalk):
    """Walks one function body (or a script's ``__main__`` block, or one
    module-level statement) and reports the creations that leak."""

    def __init__(
        self, creations: Creations, resolve: Resolve, untracked: frozenset[str],
        self_name: str | None, strict: bool, track_locals: bool = True,
    ) -> None:
        super().__init__(creations, resolve, untracked, self_name, track_locals)
        self.strict = strict  # also report releases an exception would skip
        self.exits: list[State] = []  # the states at `return` and at the end of the body
        self.loop_rebinds: dict[int, cst.CSTNode] = {}  # creation -> loop it re-binds each iteration
        self.handler_entries: list[list[State]] = []  # per enclosing `try`: states its handlers may see
        self.body: Sequence[cst.CSTNode] = ()  # the walked function's statements

    # -- results ---------------------------------------------------------
    def run(self, body: Sequence[cst.BaseStatement]) -> list[Finding]:
        self.streams = stream_names(body)
        self.body = body
        end = self.block(body, State())
        if end is not None:
            self.exits.append(end)
        for state in self.exits:
            self.check_exit(state)
        if self.strict:
            final = join(self.exits)
            for key, statuses in (final.status.items() if final else ()):
                if Status.PLAIN in statuses and Status.OPEN not in statuses:
                    self.report(key, Reason.NOT_IN_FINALLY)
        return list(self.findings.values())

    def check_exit(self, state: State, loop: cst.CSTNode | None = None) -> None:
        """An exit (return, end of body, next iteration): open objects leak."""
        for key, statuses in state.status.items():
            if Status.OPEN not in statuses:
                continue
            if loop is not None and self.loop_rebinds.get(key) is not loop:
                continue
            if not statuses & HANDLED and key not in self.handled:
                self.report(key, Reason.LOOP if loop is not None else Reason.NEVER)
            elif Status.NONE not in statuses:
                self.report(key, Reason.LOOP if loop is not None else Reason.SKIPPED)

    # -- statements ------------------------------------------------------
    def block(self, body: Sequence[cst.BaseStatement] | Sequence[cst.BaseSmallStatement], state: State | None) -> State | None:
        for index, statement in enumerate(body):
            if state is None:
                return None  # unreachable code
            if index + 1 < len(body) and self.exits_process(body[index + 1]):
                # `Popen(cmd)` then `os._exit(0)`: the process ends, nothing leaks.
                self.ignored.update(key for key in node_ids(statement) if key in self.creations)
            state = self.statement(statement, state)
        return state

    def exits_process(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.SimpleStatementLine):
            node = node.body[0]
        return isinstance(node, cst.Expr) and isinstance(node.value, cst.Call) and never_returns(node.value, self.resolve)

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
        if isinstance(value, cst.Call) and never_returns(value, self.resolve):
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
        for name in target_names(node.target):
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
        guarded = {key for name in bare_names(node.test) for key in state.bindings.get(name, ())}
        branches = []
        for body in (node.body.body, node.orelse):
            entry = state.copy()
            for key in guarded:
                entry.status[key] = entry.status.get(key, frozenset()) | {Status.NONE}
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
                if statuses & HANDLED:
                    out.status[key] = statuses - {Status.OPEN}
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
        # What is created under `assertRaises` is there to fail; under
        # `mock.patch` it may be a mock: neither is followed.
        doubtful = expects_raise(node) or any(
            isinstance(item.item, cst.Call) and last_segment(item.item.func) in MOCKING_CONTEXTS
            for item in node.items
        )
        if not doubtful:
            return self.with_body(node, state)
        self.doubtful_depth += 1
        try:
            return self.with_body(node, state)
        finally:
            self.doubtful_depth -= 1

    def with_body(self, node: cst.With, state: State) -> State | None:
        for item in node.items:
            bound = self.expr(item.item, Use.WITH, state)
            target = item.asname.name if item.asname is not None else None
            if target is not None:
                self.expr(target, Use.NEUTRAL, state)
                if bound is not None and isinstance(target, cst.Name):
                    self.bind(target.value, bound, state)
                else:
                    self.rebind(target_names(target), state)
            elif bound is not None:
                self.report(bound, Reason.WITH_ONLY_COMMITS)
        return self.block(node.body.body, state)

    def stmt_For(self, node: cst.For, state: State) -> State | None:
        self.expr(node.iter, Use.ITER, state)
        targets = target_names(node.target)

        def start(entry: State) -> State:
            self.rebind(targets, entry)  # each iteration re-binds the loop variable
            return entry

        return self.loop(node, state, start)

    def stmt_While(self, node: cst.While, state: State) -> State | None:
        self.expr(node.test, Use.NEUTRAL, state)
        return self.loop(node, state, lambda s: s)

    def loop(self, node: cst.For | cst.While, state: State, start: Callable[[State], State]) -> State | None:
        endless = isinstance(node, cst.While) and is_constant_true(node.test)
        self.note_loop_rebinds(node)
        head = state
        frame = Frame(is_loop=True)
        for _ in range(3):  # statuses only grow: a few rounds reach the fixpoint
            frame = Frame(is_loop=True)
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
                if statuses != {Status.OPEN} or key not in self.handled:
                    continue
                if inside is None:
                    inside = set(node_ids(loop.body))
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
        frame = Frame(is_loop=False) if node.finalbody is not None else None
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
                    entry.status[key] = entry.status[key] | {Status.NONE}
            if node.orelse is not None and body_end is not None:
                body_end = self.block(node.orelse.body.body, body_end)
            outcomes = [body_end]
            handler_entry = join(entries)
            for handler in node.handlers:
                if handler_entry is None:
                    break
                entry = handler_entry.copy()
                if handler.name is not None:
                    self.rebind(target_names(handler.name.name), entry)
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

    def through_finally(self, body: Sequence[cst.BaseStatement], out: State | None, frame: Frame) -> State | None:
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


def never_returns(call: cst.Call, resolve: Resolve) -> bool:
    """``sys.exit()``, ``self.fail()``: no normal path goes on after the call."""
    name = dotted_name(call.func)
    if name is not None and name.startswith("self."):
        return name in EXIT_CALLS
    return resolve(call.func) in EXIT_CALLS
