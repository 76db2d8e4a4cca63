"""asyncio tasks: which calls create one, task groups, and whether a task collection is pruned.

Used by MEM303 (dangling-task).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Final

import libcst as cst

from memlint.rules.lifecycle._handles import (
    GROWERS,
    Site,
    attribute_uses,
    enclosing_function,
    find_paths,
)
from memlint.analysis.loops import is_endless
from memlint.tree.names import NameTracker, dotted_name
from memlint.tree.walk import iter_nodes

TASK_FACTORIES: Final = frozenset({"asyncio.create_task", "asyncio.ensure_future", "asyncio.async"})
# ``asyncio.get_event_loop().create_task`` and friends, as the name tracker spells them.
LOOP_GETTERS: Final = frozenset({
    "asyncio.get_event_loop()", "asyncio.get_running_loop()", "asyncio.new_event_loop()",
    "asyncio.events.get_event_loop()", "asyncio.events.get_running_loop()",
})
TASK_GROUPS: Final = ("TaskGroup", "create_task_group", "open_nursery")
# Containers that prune themselves: a weak set, a bounded deque.
SELF_PRUNING: Final = frozenset({"weakref.WeakSet", "_weakrefset.WeakSet"})


def is_loop_getter(call: cst.Call, names: NameTracker) -> bool:
    """``asyncio.get_event_loop()`` / ``get_running_loop()`` / ``new_event_loop()``."""
    return f"{names.call_name(call)}()" in LOOP_GETTERS


def is_task_factory(call: cst.Call, names: NameTracker, loop_names: Collection[str] = ()) -> str | None:
    """The factory's display name when ``call`` creates an asyncio task, else None.

    ``loop_names``: local names known to hold an event loop
    (``ev = asyncio.get_running_loop()``), whatever they are called.
    """
    qualified = names.call_name(call)
    if qualified in TASK_FACTORIES:
        return qualified
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value != "create_task":
        return None
    if qualified is not None:
        receiver = qualified.rsplit(".", 1)[0]
        return qualified if receiver in LOOP_GETTERS else None
    text = dotted_name(func.value)
    if text is not None and ("loop" in text.rsplit(".", 1)[-1].lower() or text in loop_names):
        return f"{text}.create_task"
    return None


def in_task_group(site: Site, names: NameTracker) -> bool:
    """Whether the call is lexically inside ``async with TaskGroup() ...``."""
    for node in site.local_path:
        if isinstance(node, cst.With) and node.asynchronous is not None:
            for item in node.items:
                if isinstance(item.item, cst.Call):
                    text = dotted_name(item.item.func) or ""
                    if text.rsplit(".", 1)[-1] in TASK_GROUPS:
                        return True
    return False


# One-time setup: tasks added there are the object's own long-lived workers.
SETUP_METHODS: Final = frozenset({"__init__", "__post_init__", "__enter__", "__aenter__", "setUp", "asyncSetUp"})


# Builtins that only read a collection: counting, copying or testing prunes nothing.
READING_CALLS: Final = frozenset({"len", "sum", "any", "all", "sorted", "list", "tuple", "min", "max", "print", "repr"})


def container_leaks(site: Site, container: str, module: cst.Module, names: NameTracker) -> bool:
    """Whether tasks added to ``container`` (dotted text) pile up.

    True only when the collection is grown outside one-time setup and is
    never pruned (``discard``/``remove``/``pop``/``clear``, ``del``, a reset
    outside ``__init__``), never handed on (aliased, passed to a call other
    than a read such as ``len``/``sum``/``sorted``) and not self-pruning
    (``WeakSet``, ``deque(maxlen=...)``). Reads (iterating it to count or
    await its tasks, membership tests) prune nothing; unknown shapes do not
    leak.

    ``self._tasks``: searched across the class (any receiver, by attribute
    name). A bare name: across the module when global; a local only leaks
    when grown inside an endless loop.
    """
    function = site.function
    if function is not None and function.name.value in SETUP_METHODS:
        return False
    if "." in container:
        receiver, attr = container.rsplit(".", 1)
        root: cst.CSTNode = site.klass if site.klass is not None and receiver in ("self", "cls") else module
        uses = attribute_uses(root, attr)
        # Reading the collection (iterating it, counting, testing membership)
        # prunes nothing: only a pruning method, `del`, or a hand-off to code
        # that may prune it (an alias, a call other than a read) manages it.
        if uses.methods - GROWERS or uses.deleted or uses.aliased or uses.passed_to - READING_CALLS:
            return False
        if _cancels_each(root, lambda expr: isinstance(expr, cst.Attribute) and expr.attr.value == attr):
            return False  # long-lived service tasks, kept to be cancelled on stop
        for value, path in uses.assigned:
            where = enclosing_function(path)
            if (where is not None and where.name.value not in SETUP_METHODS) or _self_pruning(value, names):
                return False
        return True
    if function is not None and _bound_in(function, container):
        if not any(isinstance(n, cst.While) and is_endless(n) for n in site.local_path):
            return False  # a local collection: freed when the function returns
        return _only_grown(function, container, names, rebinding_prunes=False)
    if _cancels_each(module, lambda expr: isinstance(expr, cst.Name) and expr.value == container):
        return False
    return _only_grown(module, container, names, rebinding_prunes=True)


def _cancels_each(root: cst.CSTNode, is_collection: Callable[[cst.BaseExpression], bool]) -> bool:
    """A ``for task in tasks: task.cancel()`` loop over the collection: its
    tasks are services the owner stops, not work that piles up."""
    for loop, _ in find_paths(root, lambda n: isinstance(n, cst.For) and is_collection(n.iter)):
        assert isinstance(loop, cst.For)
        if isinstance(loop.target, cst.Name) and any(
            isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "cancel"
            and isinstance(node.func.value, cst.Name) and node.func.value.value == loop.target.value
            for node in iter_nodes(loop.body)
        ):
            return True
    return False


def _bound_in(function: cst.FunctionDef, name: str) -> bool:
    for _, path in find_paths(function, lambda n: isinstance(n, cst.Name) and n.value == name):
        if isinstance(path[-1], (cst.AssignTarget, cst.Param)):
            return True
        if isinstance(path[-1], (cst.Global, cst.Nonlocal)):
            return False
    return False


def _only_grown(root: cst.CSTNode, name: str, names: NameTracker, rebinding_prunes: bool) -> bool:
    """Every use of ``name`` under ``root`` is ``name.add(...)``/``append`` or a binding."""
    for node, path in find_paths(root, lambda n: isinstance(n, cst.Name) and n.value == name):
        parent = path[-1]
        if isinstance(parent, cst.Attribute):
            if parent.value is node and parent.attr.value not in GROWERS:
                return False  # pruned or read: ``tasks.discard``, ``tasks.copy()``
            continue  # ``name.add`` or some ``x.name`` attribute
        if isinstance(parent, (cst.Global, cst.Nonlocal, cst.Param)):
            continue
        if isinstance(parent, cst.AssignTarget) and isinstance(path[-2], cst.Assign):
            if _self_pruning(path[-2].value, names):
                return False
            if rebinding_prunes and enclosing_function(path) is not None:
                return False  # a global reset inside a function
            continue
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node or isinstance(parent, cst.Comparison) \
                or (isinstance(parent, cst.Arg) and isinstance(path[-2], cst.Call)
                    and isinstance(path[-2].func, cst.Name) and path[-2].func.value in READING_CALLS):
            continue  # read: iterated, tested, counted; nothing pruned
        return False  # passed on, deleted, augmented
    return True


def _self_pruning(value: cst.BaseExpression, names: NameTracker) -> bool:
    if not isinstance(value, cst.Call):
        return False
    qualified = names.call_name(value, names.module_scope)
    if qualified in SELF_PRUNING:
        return True
    # ``deque(maxlen=N)`` drops the oldest task itself.
    return qualified == "collections.deque" and any(
        arg.keyword is not None and arg.keyword.value == "maxlen" for arg in value.args
    )


def is_service_loop(function: cst.FunctionDef) -> bool:
    """Whether a coroutine function runs a ``while`` loop (a long-lived worker,
    not a per-event job): keeping such tasks in a collection is the cure, not
    the leak."""
    return next(find_paths(function.body, lambda n: isinstance(n, cst.While)), None) is not None
