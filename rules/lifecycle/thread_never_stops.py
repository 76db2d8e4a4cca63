"""MEM301 thread-never-stops."""

from __future__ import annotations

import libcst as cst

from memlint.rules.lifecycle._callables import (
    Enclosing,
    ModuleIndex,
    callable_label,
    resolve_callable,
)
from memlint.rules.lifecycle._handles import (
    Fate,
    Site,
    attribute_uses,
    expected_to_raise,
    fate_of,
)
from memlint.analysis.loops import unstoppable_loop
from memlint.analysis.schedule import schedule_of
from memlint.diagnostic import Family
from memlint.rule import FileContext, Rule

THREAD: frozenset[str] = frozenset({"threading.Thread"})
# Functions run once per process: a thread they start is a singleton.
ENTRY_POINTS: frozenset[str] = frozenset({"main", "_main"})


class ThreadNeverStops(Rule):
    """Flags threads whose target loops forever with no way to stop it.

    ## What it does
    Resolves the target of a `threading.Thread` within the module (a
    function, `self.method`, a `lambda` or `functools.partial` around one, or
    the `run` method of a `Thread` subclass) and reports it when the target
    enters a `while True:` loop that nothing leaves (no `break`, `return`,
    `raise`, `sys.exit`) and that checks no stop signal (no `Event.is_set()` /
    `Event.wait()`, no flag in the loop condition, no sentinel from the queue).
    A thread started from a function or method is reported when its handle
    is dropped, or kept in `self.<attr>` that is never joined; not when it is
    joined, handed on (returned, passed, copied out), or a process-wide
    singleton (started at module level or by `main()`, kept in a global or
    on the class). A `Thread` subclass with an endless `run` is reported
    where the module starts an instance that is not such a singleton nor
    joined, or at the loop itself when the module starts none.

    ## Why is this bad?
    A thread that can never finish keeps its stack and everything its frames
    reference alive for the life of the process: the queue it reads, the
    objects bound to `self`, the sockets it polls. Started once per object or
    per request, such threads pile up (the seed's goroutine leak) and shutdown
    hangs or the interpreter exits while they are mid-work.

    ## Example
    ```python
    import queue
    import threading

    class Uploader:
        def __init__(self):
            self.jobs = queue.Queue(maxsize=100)
            threading.Thread(target=self._pump, daemon=True).start()

        def _pump(self):
            while True:
                self.send(self.jobs.get())
    ```

    ## Use instead
    ```python
    import queue
    import threading

    class Uploader:
        def __init__(self):
            self.jobs = queue.Queue(maxsize=100)
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._pump, daemon=True)
            self._thread.start()

        def _pump(self):
            while not self._stop.is_set():
                try:
                    self.send(self.jobs.get(timeout=0.5))
                except queue.Empty:
                    continue

        def close(self):
            self._stop.set()
            self._thread.join()
    ```

    ## Known limitations
    Opt-in: on the ecosystem check's fresh test set it was right 1 in 6 at
    first look (docs/ecosystem.md). Whether growth repeats per request, and
    how many keys or instances there are, is mostly decided in other modules
    (a singleton made by `main`, keys from configuration), which a one-module
    analysis cannot see. Enable it (`--select MEM301` or `extend-select`)
    to review a service's long-lived state.
    Targets defined in other modules, and callees that raise to end the loop,
    are not followed (no report). A loop inside a `try` with handlers is taken
    as stopped on purpose by an exception (a closed socket or queue).
    """

    code = "MEM301"
    default = False
    name = "thread-never-stops"
    family = Family.LIFECYCLE
    message = (
        "thread target `{target}` loops forever and checks no stop signal{how}: the thread can "
        "never be stopped and keeps everything it references alive; loop on a stop `threading.Event` "
        "(or a queue sentinel) and `join()` the thread on shutdown"
    )
    triggers = ("Thread",)
    seed = "a background thread that loops forever with no way to stop it"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Thread(...) calls and calls of plain names (instances of a Thread
        # subclass, once the module's classes are known), in source order.
        self._sites: list[Site] = []
        self._threads: set[int] = set()  # ids of the Thread(...) calls among them
        self._classes: list[cst.ClassDef] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if node.bases:
            self._classes.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.names.call_name(node) in THREAD:
            self._threads.add(id(node))
            self._sites.append(Site(node, self.context.where.parents))
        elif isinstance(node.func, cst.Name):
            self._sites.append(Site(node, self.context.where.parents))

    def finish(self) -> None:
        if not self._threads and not self._classes:
            return
        names = self.context.names
        index = ModuleIndex.build(self.context.module)
        thread_classes = {
            klass.name.value: klass for klass in self._classes
            if klass.name.value in index.classes and index.subclasses_base(klass, names, THREAD)
        }
        instances = [
            site for site in self._sites
            if id(site.node) not in self._threads and site.node.func.value in thread_classes  # type: ignore[attr-defined]
        ]
        for site in self._sites:
            if id(site.node) in self._threads and not expected_to_raise(site):
                self._check_target(site, index)
        self._check_subclasses(thread_classes, instances, index)

    def _check_target(self, site: Site, index: ModuleIndex) -> None:
        call = site.node
        assert isinstance(call, cst.Call)
        target = _target_argument(call)
        if target is None:
            return
        names = self.context.names
        where = Enclosing.of(site.definitions)
        function = resolve_callable(target, index, names, where, names.scope_of(site.innermost_scope_node))
        if function is None or unstoppable_loop(function) is None:
            return
        how = self._unjoined(site)
        if how is not None:
            self.report(call, self.message.format(target=callable_label(target), how=how))

    def _unjoined(self, site: Site) -> str | None:
        """Why the started thread is never stopped, or None when it is a
        singleton, joined, or handed on (unknown)."""
        if site.function is None or site.function.name.value in ENTRY_POINTS \
                or schedule_of(self.context.module).runs_once(site.function):
            return None  # a one-off thread for the life of the process
        fate = fate_of(site)
        if fate.fate is Fate.DROPPED:
            return ", and its handle is dropped" if fate.name is None else f", and `{fate.name}` is never joined"
        if fate.fate is Fate.ATTRIBUTE and fate.name is not None:
            if fate.receiver == "cls" or (site.klass is not None and fate.receiver == site.klass.name.value):
                return None  # kept on the class: a lazily started singleton
            root = site.klass or self.context.module
            uses = attribute_uses(root, fate.name)
            if "join" not in uses.methods and not uses.handed_on:
                return f", and `{fate.receiver}.{fate.name}` is never joined"
        return None

    def _check_subclasses(self, classes: dict[str, cst.ClassDef], instances: list[Site], index: ModuleIndex) -> None:
        reported: set[int] = set()
        for name, klass in classes.items():
            run = index.method(klass, "run")
            loop = unstoppable_loop(run) if run is not None else None
            if loop is None or id(loop) in reported:
                continue
            made = [site for site in instances if site.node.func.value == name]  # type: ignore[attr-defined]
            reported.add(id(loop))
            if not made:
                # Started elsewhere: the endless `run` is the defect to point at.
                self.report(loop, self.message.format(target=f"{name}.run", how=""))
                continue
            # Point at each instance started here and never stopped, as for a
            # `Thread(target=...)`: singletons and joined instances are fine.
            for site in made:
                how = self._unjoined(site)
                if how is not None:
                    self.report(site.node, self.message.format(target=f"{name}.run", how=how))


def _target_argument(call: cst.Call) -> cst.BaseExpression | None:
    """``target=`` of ``Thread(group, target, name, args, kwargs)``."""
    for position, arg in enumerate(call.args):
        if arg.keyword is not None:
            if arg.keyword.value == "target":
                return arg.value
        elif position == 1 and arg.star == "":
            return arg.value
    return None
