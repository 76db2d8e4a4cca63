"""MEM303 dangling-task."""

from __future__ import annotations

import libcst as cst

from memlint.rules.lifecycle._callables import Enclosing, ModuleIndex, resolve_callable
from memlint.rules.lifecycle._handles import Fate, Site, expected_to_raise, fate_of
from memlint.rules.lifecycle._tasks import (
    container_leaks,
    in_task_group,
    is_loop_getter,
    is_service_loop,
    is_task_factory,
)
from memlint.diagnostic import Family
from memlint.rule import FileContext, Rule


class DanglingTask(Rule):
    """Flags asyncio tasks whose reference is dropped, and task sets never pruned.

    ## What it does
    Reports `asyncio.create_task(...)`, `asyncio.ensure_future(...)` and
    `loop.create_task(...)` (any receiver named like an event loop, or
    `asyncio.get_event_loop()` / `get_running_loop()`) whose result is thrown
    away or kept in a local that is never used; and tasks added to a set or
    list (`self._tasks.add(task)`, outside `__init__`) that is never pruned
    (no `add_done_callback(self._tasks.discard)`, no
    `remove`/`discard`/`pop`/`clear`, no reset outside `__init__`) and never
    handed to code that might prune it; iterating it, counting it or testing
    membership prunes nothing. Tasks created by an
    `asyncio.TaskGroup` (`tg.create_task`) or inside `async with TaskGroup()`
    are not reported.

    ## Why is this bad?
    The event loop keeps only a weak reference to a task: a task nobody holds
    can be garbage-collected mid-flight, and its exception is never seen.
    The opposite mistake, a collection that keeps every task ever started,
    holds every finished task, its result and its traceback for the life of
    the service: the seed's unstopped goroutine in asyncio form.

    ## Example
    ```python
    import asyncio

    async def handle(reader, writer):
        asyncio.create_task(audit(reader))
        await writer.drain()
    ```

    ```python
    import asyncio

    class Notifier:
        def __init__(self):
            self._tasks = set()

        def notify(self, user):
            task = asyncio.create_task(self._send(user))
            self._tasks.add(task)
    ```

    ## Use instead
    ```python
    import asyncio

    class Notifier:
        def __init__(self):
            self._tasks = set()

        def notify(self, user):
            task = asyncio.create_task(self._send(user))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
    ```

    ## Known limitations
    A task handed to another function or returned is assumed to be kept.
    Only `add`/`append` growth of attributes and globals (and of locals inside
    an endless loop) is followed; a collection passed to any call other than
    a builtin read (`asyncio.gather(*tasks)`, a helper) is taken as managed.
    """

    code = "MEM303"
    name = "dangling-task"
    family = Family.LIFECYCLE
    message = (
        "task from `{factory}` is {how}: the event loop holds tasks weakly, so it can vanish "
        "mid-flight and its exception is lost; keep a reference in a set and discard it when done "
        "(`task.add_done_callback(tasks.discard)`), or use an `asyncio.TaskGroup`"
    )
    grown_message = (
        "task collection `{container}` grows with every task and is never pruned: finished tasks "
        "and their results stay alive for the life of the service; "
        "`task.add_done_callback({container}.discard)` (or remove finished tasks)"
    )
    triggers = ("create_task", "ensure_future")
    seed = "an asyncio task started and forgotten: nobody keeps, awaits or cancels it"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._calls: list[tuple[Site, str]] = []  # task-creating calls and their factory, in source order
        self._index: ModuleIndex | None = None
        self._loop_names: dict[int, set[str]] = {}  # scope id -> names bound to an event loop

    def visit_Assign(self, node: cst.Assign) -> None:
        # ``ev = asyncio.get_running_loop()``: ``ev.create_task(...)`` below makes a task.
        if isinstance(node.value, cst.Call) and is_loop_getter(node.value, self.context.names):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._loop_names.setdefault(id(self.context.names.current), set()).add(target.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        loop_names = self._loop_names.get(id(self.context.names.current), ())
        factory = is_task_factory(node, self.context.names, loop_names)
        if factory is not None:
            self._calls.append((Site(node, self.context.where.parents), factory))

    def finish(self) -> None:
        for site, factory in self._calls:
            if not in_task_group(site, self.context.names) and not expected_to_raise(site):
                self._check(site, factory)

    def _check(self, site: Site, factory: str) -> None:
        fate = fate_of(site, closers=("cancel",), neutral=("set_name", "get_name", "get_coro"))
        if fate.fate is Fate.DROPPED:
            how = "dropped" if fate.name is None else f"kept in `{fate.name}`, which is never used"
            self.report(site.node, self.message.format(factory=factory, how=how))
        elif (
            fate.fate is Fate.CONTAINER and fate.name is not None and not self._starts_service_loop(site)
            and container_leaks(site, fate.name, self.context.module, self.context.names)
        ):
            self.report(site.node, self.grown_message.format(container=fate.name))

    def _starts_service_loop(self, site: Site) -> bool:
        """Whether the task runs a coroutine of this module that loops (a worker)."""
        call = site.node
        assert isinstance(call, cst.Call)
        if not call.args or not isinstance(call.args[0].value, cst.Call):
            return False
        if self._index is None:
            self._index = ModuleIndex.build(self.context.module)
        names = self.context.names
        coroutine = resolve_callable(
            call.args[0].value.func, self._index, names, Enclosing.of(site.definitions),
            names.scope_of(site.innermost_scope_node),
        )
        return coroutine is not None and is_service_loop(coroutine)
