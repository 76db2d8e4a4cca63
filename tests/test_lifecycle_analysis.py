"""Unit tests of the lifecycle analyses: callable resolution, handle fate, loops, tasks, timers."""

from __future__ import annotations

import textwrap

import libcst as cst

from memlint.rules.lifecycle._callables import (
    Enclosing,
    ModuleIndex,
    callable_label,
    resolve_callable,
)
from memlint.rules.lifecycle._handles import Fate, Site, fate_of, in_loop
from memlint.tree.walk import find_paths
from memlint.analysis.loops import checks_stop_signal, unstoppable_loop
from memlint.tree.names import NameTracker
from memlint.rules.lifecycle._timers import callback_argument, is_guarded, rearm_path


def _parse(code: str) -> tuple[cst.Module, NameTracker]:
    module = cst.parse_module(textwrap.dedent(code))
    names = NameTracker(module)
    module.visit(_Walk(names))
    return module, names


class _Walk(cst.CSTVisitor):
    def __init__(self, names: NameTracker) -> None:
        super().__init__()
        self.names = names

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.names.on_visit(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.names.on_leave(original_node)


def _calls(module: cst.Module, func_text: str) -> list[cst.Call]:
    return [
        node for node, _ in find_paths(module, lambda n: isinstance(n, cst.Call))
        if module.code_for_node(node.func) == func_text  # type: ignore[attr-defined]
    ]


def locate(module: cst.Module, nodes: list[cst.Call]) -> list[Site]:
    """Sites of ``nodes`` in source order (the rules record them during the engine's walk)."""
    wanted = {id(node) for node in nodes}
    return [Site(node, path) for node, path in find_paths(module, lambda n: id(n) in wanted)]


def _function(module: cst.Module, name: str) -> cst.FunctionDef:
    return next(
        node for node, _ in find_paths(module, lambda n: isinstance(n, cst.FunctionDef))
        if node.name.value == name  # type: ignore[attr-defined]
    )


CLASSY = """
import functools, threading
def worker(q):
    while True:
        q.get()
class Svc:
    def start(me):
        threading.Thread(target=me._run)
        threading.Thread(target=lambda: worker(1))
        threading.Thread(target=functools.partial(worker, 1))
        threading.Thread(target=threading.excepthook)
    def _run(self):
        pass
"""


def test_resolve_callable_forms() -> None:
    module, names = _parse(CLASSY)
    index = ModuleIndex.build(module)
    found = []
    for site in locate(module, _calls(module, "threading.Thread")):
        target = site.node.args[0].value  # type: ignore[attr-defined]
        function = resolve_callable(target, index, names, Enclosing.of(site.definitions), names.scope_of(site.innermost_scope_node))
        found.append(function.name.value if function else None)
        assert callable_label(target)
    assert found == ["_run", "worker", "worker", None]


def test_handle_fates() -> None:
    module, _ = _parse("""
        import threading
        def f(xs):
            threading.Thread().start()
            a = threading.Thread(); a.daemon = True; a.start()
            b = threading.Thread(); b.start(); b.join()
            self.c = threading.Thread()
            xs.append(threading.Thread())
            return threading.Thread()
        def g():
            global d
            d = threading.Thread()
            for _ in range(3):
                e = threading.Thread()
                e.start()
        """)
    fates = [(fate_of(site).fate, in_loop(site)) for site in locate(module, _calls(module, "threading.Thread"))]
    assert fates == [
        (Fate.DROPPED, False), (Fate.DROPPED, False), (Fate.CLOSED, False), (Fate.ATTRIBUTE, False),
        (Fate.CONTAINER, False), (Fate.ESCAPED, False), (Fate.GLOBAL, False), (Fate.DROPPED, True),
    ]


def test_displayed_handles_can_count_as_dropped() -> None:
    module, _ = _parse("""
        import threading
        def f(log):
            a = threading.Timer(1, f); a.start(); print("armed", a)
            b = threading.Timer(1, f); b.start(); log.debug("armed %s", b); s = f"{b!r}"
            c = threading.Timer(1, f); c.start(); print(c); return c
            d = threading.Timer(1, f); d.start(); register(d)
        """)
    sites = locate(module, _calls(module, "threading.Timer"))
    assert [fate_of(site, displayed_is_neutral=True).fate for site in sites] == [
        Fate.DROPPED, Fate.DROPPED, Fate.ESCAPED, Fate.ESCAPED,
    ]
    assert [fate_of(site).fate for site in sites] == [Fate.ESCAPED] * 4


def test_unstoppable_loop() -> None:
    module, _ = _parse("""
        def endless(q):
            while True:
                q.get()
        def evented(q, ev):
            while True:
                if ev.is_set():
                    pass
        def caught(sock):
            try:
                while True:
                    sock.accept()
            except OSError:
                pass
        def gen(q):
            while True:
                yield q.get()
        def flagged(self):
            while self.running:
                pass
        """)
    results = {name: unstoppable_loop(_function(module, name)) is not None
               for name in ("endless", "evented", "caught", "gen", "flagged")}
    assert results == {"endless": True, "evented": False, "caught": False, "gen": False, "flagged": False}
    assert checks_stop_signal(_function(module, "evented").body)


def test_timer_rearm_and_guard() -> None:
    module, _ = _parse("""
        import threading
        def tick():
            threading.Timer(1, tick).start()
        def schedule(self):
            self.t = threading.Timer(1, renew)
        def renew():
            schedule(None)
        def guarded(self):
            if self.closed:
                return
            threading.Timer(1, guarded).start()
        """)
    tick, schedule, renew, guarded = (_function(module, n) for n in ("tick", "schedule", "renew", "guarded"))
    assert rearm_path(tick, tick) == ()
    assert rearm_path(schedule, renew)
    assert rearm_path(tick, renew) is None
    assert is_guarded(guarded, ())
    assert not is_guarded(tick, ())
    timer = _calls(module, "threading.Timer")[0]
    assert module.code_for_node(callback_argument(timer)) == "tick"  # type: ignore[arg-type]


def test_task_factories_and_collections() -> None:
    from memlint.rules.lifecycle._tasks import container_leaks, is_task_factory

    module, names = _parse("""
        import asyncio
        from asyncio import get_event_loop
        class Hub:
            def __init__(self):
                self.jobs = set()
                self.kept = set()
            def on_event(self, e):
                self.jobs.add(asyncio.create_task(e))
                self.kept.add(asyncio.create_task(e))
            def close(self):
                for task in self.kept:
                    task.cancel()
        def fire(tg, loop, e):
            get_event_loop().create_task(e)
            loop.create_task(e)
            tg.create_task(e)
        """)
    calls = [n for n, _ in find_paths(module, lambda n: isinstance(n, cst.Call))]
    factories = [f for f in (is_task_factory(c, names) for c in calls) if f]  # type: ignore[arg-type]
    assert factories == [
        "asyncio.create_task", "asyncio.create_task", "asyncio.get_event_loop().create_task", "loop.create_task",
    ]
    sites = locate(module, [c for c in calls if is_task_factory(c, names) == "asyncio.create_task"])  # type: ignore[arg-type]
    leaks = [container_leaks(site, fate_of(site).name or "", module, names) for site in sites]
    assert leaks == [True, False]  # `kept` is read (cancelled on close): managed


def test_local_task_list_in_endless_loop() -> None:
    # Kept out of the fixture: MEM105 (growth in an endless loop) rightly fires on the same line.
    from memlint.testing import lint_text

    code = textwrap.dedent("""
        import asyncio

        async def accept_forever(server, handler):
            pending = []
            while True:
                conn = await server.accept()
                pending.append(asyncio.create_task(handler(conn)))

        async def accept_pruned(server, handler):
            pending = set()
            while True:
                conn = await server.accept()
                task = asyncio.create_task(handler(conn))
                pending.add(task)
                task.add_done_callback(pending.discard)
        """)
    assert [(d.line, d.code) for d in lint_text(code, select=("MEM303",))] == [(8, "MEM303")]
