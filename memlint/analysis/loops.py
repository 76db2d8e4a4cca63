"""Loop exits: does a loop ever end?

Shared by the rules about growth inside endless loops (MEM105), threads that
never stop (MEM301) and self re-arming timers (MEM302).
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from memlint.analysis.constants import evaluate_number
from memlint.tree.walk import child_nodes
from memlint.tree.walk import children


def is_constant_true(test: cst.BaseExpression) -> bool:
    """``True``, ``1`` or another truthy numeric constant."""
    if isinstance(test, cst.Name):
        return test.value == "True"
    value = evaluate_number(test)
    return value is not None and bool(value)


def leaving_statements(loop: cst.While | cst.For) -> Iterator[cst.CSTNode]:
    """``break``/``return``/``raise`` nodes that leave ``loop``.

    A ``break`` inside a nested loop leaves only that loop; nested functions
    and classes are other code. ``return`` and ``raise`` leave from anywhere
    (a ``raise`` caught by a ``try`` inside the loop is still counted: the
    analysis errs towards "the loop may end").
    """
    yield from _leaving(loop.body, in_nested_loop=False)
    if loop.orelse is not None:
        yield from _leaving(loop.orelse.body, in_nested_loop=False)


def _leaving(node: cst.CSTNode, in_nested_loop: bool) -> Iterator[cst.CSTNode]:
    for child in children(node):
        kind = type(child)
        if kind in (cst.FunctionDef, cst.ClassDef, cst.Lambda):
            continue
        if kind is cst.Break:
            if not in_nested_loop:
                yield child
        elif kind is cst.Return or kind is cst.Raise:
            yield child
        elif isinstance(child, (cst.While, cst.For)):
            yield from _leaving(child.body, in_nested_loop=True)
            if child.orelse is not None:
                # `for ...: ... else: break`: the else clause runs in the outer loop.
                yield from _leaving(child.orelse, in_nested_loop)
            continue
        else:
            yield from _leaving(child, in_nested_loop)


def calls_exit(node: cst.CSTNode) -> bool:
    """Whether ``sys.exit``/``os._exit``/``exit``/``quit`` is called inside ``node`` (unresolved names)."""
    for child in children(node):
        if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(child, cst.Call):
            func = child.func
            name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
            if name in ("exit", "_exit", "quit", "abort"):
                return True
        if calls_exit(child):
            return True
    return False


def is_endless(loop: cst.CSTNode) -> bool:
    """A ``while True:`` (or ``while 1:``) loop that nothing inside leaves."""
    if not isinstance(loop, cst.While) or not is_constant_true(loop.test):
        return False
    if next(leaving_statements(loop), None) is not None:
        return False
    return not calls_exit(loop.body)


# Calls that, inside a loop, are taken as checking a stop signal: ``Event.is_set()``,
# ``Event.wait(timeout)`` (its result usually decides whether to go on).
STOP_CHECKS = frozenset({"is_set", "isSet", "wait"})


def checks_stop_signal(loop: cst.CSTNode) -> bool:
    """Whether the loop body calls ``x.is_set()``/``x.wait(...)`` (an ``Event``-style stop signal)."""
    for child in child_nodes(loop):
        if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(child, cst.Call) and isinstance(child.func, cst.Attribute) and child.func.attr.value in STOP_CHECKS:
            return True
        if checks_stop_signal(child):
            return True
    return False


def unstoppable_loop(function: cst.FunctionDef) -> cst.While | None:
    """The first loop of ``function`` that, once entered, never ends.

    An endless loop (:func:`is_endless`) that checks no stop signal and is not
    inside a ``try`` with handlers in ``function`` (a loop stopped by an
    exception from a closed socket or queue is stopped on purpose). Generators
    and nested defs are other code.
    """
    if _suspends(function.body):
        return None  # a generator or coroutine: its consumer decides when it ends
    return _unstoppable(function.body, in_handled_try=False)


def _suspends(node: cst.CSTNode) -> bool:
    for child in child_nodes(node):
        if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(child, (cst.Yield, cst.Await)) or _suspends(child):
            return True
    return False


def _unstoppable(node: cst.CSTNode, in_handled_try: bool) -> cst.While | None:
    for child in child_nodes(node):
        if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(child, cst.While) and not in_handled_try and is_endless(child) and not checks_stop_signal(child):
            return child
        handled = in_handled_try or (isinstance(child, (cst.Try, cst.TryStar)) and bool(child.handlers))
        found = _unstoppable(child, handled)
        if found is not None:
            return found
    return None


def left_by_exception(function: cst.FunctionDef | cst.Module, loop: cst.CSTNode) -> bool:
    """Whether ``loop`` sits in the body of a ``try`` with handlers in ``function``.

    ``try: while True: items.append(q.get_nowait()) except Empty: pass`` is
    the drain idiom: the call raises to end the loop, so the loop ends.
    Handlers, ``else`` and ``finally`` blocks protect nothing; nested defs
    are other code.
    """
    return _in_handled_body(function if isinstance(function, cst.Module) else function.body, loop, protected=False)


def _in_handled_body(node: cst.CSTNode, loop: cst.CSTNode, protected: bool) -> bool:
    if node is loop:
        return protected
    if isinstance(node, (cst.Try, cst.TryStar)):
        if node.handlers and _in_handled_body(node.body, loop, True):
            return True
        parts: list[cst.CSTNode] = [*node.handlers]
        parts += [part for part in (node.orelse, node.finalbody) if part is not None]
        if not node.handlers:
            parts.append(node.body)
        return any(_in_handled_body(part, loop, protected) for part in parts)
    for child in children(node):
        if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if _in_handled_body(child, loop, protected):
            return True
    return False
