"""MEM406 fetch-all-rows."""

from __future__ import annotations

import re
from typing import Final

import libcst as cst

from memlint.rules.oom._scoped import (
    Binding,
    Scope,
    ScopeBindings,
    ScopedCallRule,
)
from memlint.tree.names import dotted_name
from memlint.diagnostic import Family
from memlint.tree.walk import iter_nodes

# Calls whose result is a DB-API cursor (or a result set with the same API):
# `conn.cursor()`, `conn.execute(sql)` (sqlite3, SQLAlchemy, aiosqlite).
CURSOR_FACTORIES: Final = frozenset({"cursor", "execute"})
# Names that hold a cursor by convention: `cursor`, `cur`, `self._cursor`.
CURSOR_NAME: Final = re.compile(r"(?:^|_)(?:cursor|cur|curs)$", re.IGNORECASE)
# Statements in a loop that need the result set materialised first: a new
# query on the cursor (or connection) discards the rows not yet fetched.
QUERY_METHODS: Final = frozenset({"execute", "executemany", "executescript", "commit", "rollback", "close"})


class FetchAllRows(ScopedCallRule):
    """Flags `cursor.fetchall()` whose rows are only iterated.

    ## What it does
    Reports `cursor.fetchall()` (also awaited) and `list(cursor)` on a DB-API
    cursor when the resulting list is only looped over: directly in a `for`
    loop or comprehension, or through a local whose every use is such a
    loop, once, and that loop streams: a loop that keeps an entry for every
    row (a list, set or dict comprehension without `if`, a generator
    collected by `list()`/`sorted()`/`"".join()`, a `for` whose body appends,
    adds or stores on every pass) is not reported, since its result is as
    large as the rows anyway. A cursor is a value returned by `.cursor()` or `.execute(...)`, a
    `with conn.cursor() as cur` target, or a name such as `cursor`/`cur`.

    ## Why is this bad?
    `fetchall()` materialises the whole result set as a list of row tuples
    at once. A query that returns millions of rows becomes one allocation
    of gigabytes and the process runs out of memory, whereas iterating the
    cursor (or `fetchmany(n)` batches) keeps one batch in memory.

    ## Example
    ```python
    def export(conn, out):
        cur = conn.cursor()
        cur.execute("SELECT id, email FROM users")
        for user_id, email in cur.fetchall():
            out.write(f"{user_id},{email}\\n")
    ```

    ## Use instead
    ```python
    def export(conn, out):
        cur = conn.cursor()
        cur.execute("SELECT id, email FROM users")
        for user_id, email in cur:
            out.write(f"{user_id},{email}\\n")
    ```

    ```python
    def load(conn):
        cur = conn.execute("SELECT id FROM users")
        rows = cur.fetchall()
        return len(rows), rows
    ```

    ## Known limitations
    On the ecosystem check's 79 packages (docs/ecosystem.md) it was right twice
    in 95 reports: real queries are mostly bounded (catalogue and schema
    queries, `LIMIT`, `WHERE id IN (...)` over a batch) or keep every row
    anyway. It is therefore opt-in: enable it (`--select MEM406` or
    `extend-select`) in code that queries user-sized tables.
    Loops that run a new query on some cursor are not reported (the rows
    may have to be fetched first), nor rows iterated more than once (two
    loops, or a loop nested in another): that needs the list. Server-side cursors are not told apart
    from client-side ones.
    """

    code = "MEM406"
    default = False
    name = "fetch-all-rows"
    family = Family.OOM
    message = (
        "`{call}` materialises the whole result set only to iterate it; iterate the cursor "
        "(`for row in cursor:`) or fetch batches with `cursor.fetchmany(n)`"
    )
    triggers = ("fetchall", "cursor", "execute")
    seed = "loading a whole query result into memory at once instead of streaming it"

    def is_candidate(self, node: cst.Call) -> bool:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "fetchall" and not node.args:
            return True
        elif isinstance(func, cst.Name) and func.value == "list" and len(node.args) == 1:
            return True
        return False

    def check(self, scope: Scope, calls: list[cst.CSTNode]) -> None:
        index: ScopeBindings | None = None
        for call in calls:
            assert isinstance(call, cst.Call)
            receiver = call.func.value if isinstance(call.func, cst.Attribute) else call.args[0].value
            if isinstance(call.func, cst.Name) and self.context.names.call_name(call, self.context.names.scope_of(scope)) != "builtins.list":
                continue
            index = index or ScopeBindings(scope)
            if not _is_cursor(receiver, index):
                continue
            result: cst.BaseExpression = call
            parent = index.parent(call)
            if isinstance(parent, cst.Await):
                result = parent
            loops = index.only_iterated(result)
            if not loops or any(_queries(loop, index) for loop in loops) or _iterated_again(result, loops, index):
                continue
            if all(index.keeps_every_item(loop) for loop in loops):
                continue  # every row is kept anyway: iterating the cursor would not lower the peak
            # Rows kept past `with conn.cursor() as cur:` are fetched so that
            # the cursor can be released first: that is the point, not a slip.
            opened_by = index.opening_with(receiver)
            if opened_by is None or all(index.is_within(loop, opened_by) for loop in loops):
                spelling = "list(cursor)" if isinstance(call.func, cst.Name) else ".fetchall()"
                self.report(call, self.message.format(call=spelling))


def _iterated_again(result: cst.BaseExpression, loops: list[cst.CSTNode], index: ScopeBindings) -> bool:
    """Rows kept in a local and looped over twice, or in a loop that itself
    runs repeatedly, need the list: iterating the cursor would give them once."""
    if len(loops) > 1:
        return True
    binding = index.parent(result)
    return binding is not None and index.iteration_loop(result) is None and index.runs_repeatedly(loops[0], binding)


def _is_cursor(expr: cst.BaseExpression, index: ScopeBindings) -> bool:
    if isinstance(expr, cst.Await):
        expr = expr.expression
    if isinstance(expr, cst.Call):
        return isinstance(expr.func, cst.Attribute) and expr.func.attr.value in CURSOR_FACTORIES
    dotted = dotted_name(expr)
    if dotted is None:
        return False
    if CURSOR_NAME.search(dotted.rsplit(".", 1)[-1]):
        return True
    if isinstance(expr, cst.Name):
        bindings = index.bindings.get(expr.value)
        return bool(bindings) and all(_binds_cursor(b) for b in bindings)
    return False


def _binds_cursor(binding: Binding) -> bool:
    if binding.kind not in ("assign", "with") or binding.value is None:
        return False
    value = binding.value
    if isinstance(value, cst.Await):
        value = value.expression
    return isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value in CURSOR_FACTORIES


def _queries(loop: cst.CSTNode, index: ScopeBindings) -> bool:
    """True when the loop (a comprehension: all of it) runs a query, commits or closes something."""
    if isinstance(loop, cst.For):
        parts: list[cst.CSTNode] = [loop.body]
    elif isinstance(loop, cst.CompFor):
        # Not the iterable itself: that is where the query is, legitimately.
        parts = [*loop.ifs]
        if loop.inner_for_in is not None:
            parts.append(loop.inner_for_in)
        comprehension = index.parent(loop)
        for attr in ("elt", "key", "value"):
            part = getattr(comprehension, attr, None)
            if isinstance(part, cst.CSTNode):
                parts.append(part)
    else:
        return False
    return any(
        isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in QUERY_METHODS
        for part in parts for node in iter_nodes(part, include_self=True)
    )
