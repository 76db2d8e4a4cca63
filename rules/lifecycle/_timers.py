"""Timers that re-arm themselves: ``threading.Timer`` and ``loop.call_later`` chains.

Used by MEM302 (timer-never-cancelled).
"""

from __future__ import annotations

from typing import Final

import libcst as cst

from memlint.rules.lifecycle._handles import AttributeUses
from memlint.tree.walk import Path, find_paths

TIMER: Final = "threading.Timer"
# Event-loop scheduling methods that return a cancellable handle (asyncio, tornado).
SCHEDULERS: Final = frozenset({"call_later", "call_at"})
# Ways to stop a kept timer handle: ``h.cancel()``, ``io_loop.remove_timeout(h)``.
CANCELLERS: Final = frozenset({"cancel", "remove_timeout", "cancel_timer", "clear_timeout"})


def callback_argument(call: cst.Call) -> cst.BaseExpression | None:
    """The callback of ``Timer(interval, function)`` / ``loop.call_later(delay, callback)``."""
    positional = [arg for arg in call.args if arg.keyword is None and arg.star == ""]
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in ("function", "callback"):
            return arg.value
    return positional[1].value if len(positional) > 1 else None


def is_scheduler_call(call: cst.Call) -> bool:
    return isinstance(call.func, cst.Attribute) and call.func.attr.value in SCHEDULERS


def _calls_of(root: cst.CSTNode, function: cst.FunctionDef) -> list[Path]:
    """Paths (within ``root``) of calls to ``function`` by name: ``f()`` or ``self.f()``."""
    name = function.name.value

    def calls_function(node: cst.CSTNode) -> bool:
        if not isinstance(node, cst.Call):
            return False
        func = node.func
        if isinstance(func, cst.Name):
            return func.value == name
        return isinstance(func, cst.Attribute) and func.attr.value == name and isinstance(func.value, cst.Name)

    return [(*path, node) for node, path in find_paths(root, calls_function)]


def _names_function(expr: cst.BaseExpression | None, function: cst.FunctionDef) -> bool:
    """``f`` or ``self.f`` for ``def f``."""
    name = function.name.value
    if isinstance(expr, cst.Name):
        return expr.value == name
    return isinstance(expr, cst.Attribute) and expr.attr.value == name and isinstance(expr.value, cst.Name)


def _timers_back_to(root: cst.CSTNode, function: cst.FunctionDef) -> list[Path]:
    """Paths of ``Timer(..., function)`` / ``x.call_later(..., function)`` calls under ``root``."""
    def schedules_function(node: cst.CSTNode) -> bool:
        if not isinstance(node, cst.Call):
            return False
        func = node.func
        last = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        return (last == "Timer" or last in SCHEDULERS) and _names_function(callback_argument(node), function)

    return [(*path, node) for node, path in find_paths(root, schedules_function)]


def rearm_path(scheduling: cst.FunctionDef, callback: cst.FunctionDef) -> Path | None:
    """How the chain closes: ``callback`` is ``scheduling`` itself (returns an
    empty path), or ``callback`` calls ``scheduling`` or starts a timer back
    to it (``on`` -> ``off`` -> ``on``; the path to that call); None when the
    timer does not re-arm itself."""
    if callback is scheduling:
        return ()
    calls = _calls_of(callback.body, scheduling) or _timers_back_to(callback.body, scheduling)
    return calls[0] if calls else None


def is_guarded(function: cst.FunctionDef, path: Path) -> bool:
    """Whether a statement at ``path`` inside ``function`` may be skipped:
    it sits under an ``if``/``while``/conditional expression, or the function
    has an early ``return``/``raise`` under an ``if`` (a stop flag checked)."""
    if any(isinstance(node, (cst.If, cst.While, cst.IfExp, cst.Match, cst.BooleanOperation)) for node in path):
        return True
    for _, exit_path in find_paths(function.body, lambda n: isinstance(n, (cst.Return, cst.Raise))):
        if any(isinstance(node, cst.If) for node in exit_path):
            return True
    return False


def handle_cancelled(uses: AttributeUses) -> bool:
    """Whether a kept handle is ever cancelled (``h.cancel()`` or ``loop.remove_timeout(h)``)."""
    return bool(uses.methods & CANCELLERS or uses.passed_to & CANCELLERS)
