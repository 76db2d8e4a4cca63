"""MEM302 timer-never-cancelled."""

from __future__ import annotations

import libcst as cst

from memlint.rules.lifecycle._callables import Enclosing, ModuleIndex, resolve_callable
from memlint.rules.lifecycle._handles import (
    NEUTRAL_USES,
    Fate,
    Site,
    attribute_uses,
    expected_to_raise,
    fate_of,
    in_loop,
)
from memlint.rules.lifecycle._timers import (
    TIMER,
    callback_argument,
    handle_cancelled,
    is_guarded,
    is_scheduler_call,
    rearm_path,
)
from memlint.analysis.schedule import schedule_of
from memlint.diagnostic import Family
from memlint.rule import FileContext, Rule
from memlint.tree.walk import iter_nodes

# Reading when a handle fires, or whether it was cancelled, keeps nothing.
_NEUTRAL = NEUTRAL_USES | {"when", "cancelled"}


class TimerNeverCancelled(Rule):
    """Flags self re-arming timers nobody can cancel, and timers started in loops.

    ## What it does
    Reports a `threading.Timer` or `loop.call_later`/`call_at` whose callback
    (resolved in the module) re-arms the same timer, unconditionally, while
    the new handle is dropped (discarded, or kept in a local that is only
    started, printed or logged) or kept in an attribute that is never
    cancelled (`cancel()`, `remove_timeout(...)`); a `threading.Timer`
    started inside a loop whose handle is dropped, or in a function that
    runs on every request or message (a handler signature, a callback handed
    on, a decorator's wrapper) whose handle is dropped while nothing in the
    module cancels any timer; and a `threading.Timer`
    that a method other than the constructor stores in an attribute of its
    class that nothing in the class ever cancels, so that each call replaces
    a timer still running.

    ## Why is this bad?
    A periodic chain with no handle and no stop flag can never be stopped:
    it keeps its callback, the callback's `self` and everything that
    references alive, and keeps firing after the object is closed (the
    seed's `time.Ticker` never stopped). Timers started in a loop with their
    handles dropped pile up, one thread each, with no way to cancel them.

    ## Example
    ```python
    import threading

    class Heartbeat:
        def __init__(self, client):
            self.client = client

        def beat(self):
            self.client.ping()
            threading.Timer(30, self.beat).start()
    ```

    ## Use instead
    ```python
    import threading

    class Heartbeat:
        def __init__(self, client):
            self.client = client
            self._timer = None

        def beat(self):
            self.client.ping()
            self._timer = threading.Timer(30, self.beat)
            self._timer.start()

        def stop(self):
            if self._timer is not None:
                self._timer.cancel()
    ```

    ## Known limitations
    Opt-in: on the ecosystem check's fresh test set it was right 0 in 1 at
    first look (docs/ecosystem.md). Whether growth repeats per request, and
    how many keys or instances there are, is mostly decided in other modules
    (a singleton made by `main`, keys from configuration), which a one-module
    analysis cannot see. Enable it (`--select MEM302` or `extend-select`)
    to review a service's long-lived state.
    Re-arming through more than one intermediate call is not followed, and
    a re-arm under any `if` (or after an early `return` under an `if`) is
    taken as guarded by a stop flag.
    """

    code = "MEM302"
    default = False
    name = "timer-never-cancelled"
    family = Family.LIFECYCLE
    message = (
        "`{factory}` re-arms itself via `{callback}` and {how}: the chain can never be stopped and "
        "keeps its callback's objects alive; keep the handle (e.g. `self._timer`) and `cancel()` it "
        "on shutdown, or check a stop flag before re-arming"
    )
    loop_message = (
        "`threading.Timer` started in a loop with its handle dropped: the timers pile up and none "
        "can be cancelled; keep the handles and `cancel()` them on shutdown"
    )
    replaced_message = (
        "`threading.Timer` replaces `{receiver}.{name}` on every call and no timer kept there is ever "
        "cancelled: each call leaves the previous timer running; `cancel()` the previous timer before "
        "starting a new one, and on shutdown"
    )
    per_call_message = (
        "`threading.Timer` started on every call of `{function}` with its handle dropped, and nothing in the "
        "module cancels a timer: one waiting thread per call that nothing can stop; keep the handle and "
        "`cancel()` it when the work is done and on shutdown"
    )
    triggers = ("Timer", "call_later", "call_at")
    seed = "a periodic timer that is never stopped"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._sites: list[Site] = []  # Timer(...) and call_later(...) calls, in source order
        self._cancels: bool | None = None  # whether the module cancels anything, on first need

    def visit_Call(self, node: cst.Call) -> None:
        if is_scheduler_call(node) or self.context.names.call_name(node) == TIMER:
            self._sites.append(Site(node, self.context.where.parents))

    def finish(self) -> None:
        if not self._sites:
            return
        index = ModuleIndex.build(self.context.module)
        for site in self._sites:
            if site.function is not None and not expected_to_raise(site):
                self._check(site, index)

    def _check(self, site: Site, index: ModuleIndex) -> None:
        call = site.node
        assert isinstance(call, cst.Call) and site.function is not None
        is_timer = not is_scheduler_call(call)
        # A local only printed or logged is still a dropped handle.
        fate = fate_of(site, closers=("cancel",), neutral=_NEUTRAL, displayed_is_neutral=True)
        callback = callback_argument(call)
        names = self.context.names
        target = None
        if callback is not None:
            where = Enclosing.of(site.definitions)
            target = resolve_callable(callback, index, names, where, names.scope_of(site.innermost_scope_node))
        rearm = rearm_path(site.function, target) if target is not None else None
        if rearm is not None and target is not None:
            if is_guarded(site.function, site.local_path) or (rearm and is_guarded(target, rearm)):
                return
            how = self._never_cancelled(site, fate.fate, fate.name, fate.receiver)
            if how is not None:
                factory = "threading.Timer" if is_timer else call.func.attr.value  # type: ignore[attr-defined]
                self.report(call, self.message.format(factory=factory, callback=target.name.value, how=how))
        elif is_timer and in_loop(site) and fate.fate is Fate.DROPPED:
            self.report(call, self.loop_message)
        elif is_timer and self._replaced_per_call(site, fate.fate, fate.name):
            self.report(call, self.replaced_message.format(receiver=fate.receiver, name=fate.name))
        elif is_timer and fate.fate is Fate.DROPPED and not self._cancels_anything() \
                and schedule_of(self.context.module).runs_repeatedly(site.function):
            self.report(call, self.per_call_message.format(function=site.function.name.value))

    def _cancels_anything(self) -> bool:
        """Whether the module cancels any timer at all (``.cancel()`` anywhere):
        a handle reaching it through a path not followed here may be the one."""
        if self._cancels is None:
            self._cancels = any(
                isinstance(node, cst.Attribute) and node.attr.value == "cancel" for node in iter_nodes(self.context.module)
            )
        return self._cancels

    def _replaced_per_call(self, site: Site, fate: Fate, name: str | None) -> bool:
        """A timer stored in an attribute by a method that runs per call (not
        the constructor) replaces the previous one; when nothing in the class
        cancels that attribute (nor hands it on), every earlier timer is left
        running (a debounce that never debounces)."""
        if fate is not Fate.ATTRIBUTE or name is None or site.klass is None or site.function is None:
            return False
        if site.function.name.value in ("__init__", "__new__", "__post_init__"):
            return False
        uses = attribute_uses(site.klass, name)
        return not handle_cancelled(uses) and not uses.handed_on

    def _never_cancelled(self, site: Site, fate: Fate, name: str | None, receiver: str | None) -> str | None:
        if fate is Fate.DROPPED:
            return "its handle is dropped"
        if fate is Fate.ATTRIBUTE and name is not None:
            root = site.klass if site.klass is not None else self.context.module
            uses = attribute_uses(root, name)
            if not handle_cancelled(uses) and not uses.handed_on:
                return f"`{receiver}.{name}` is never cancelled"
        return None
