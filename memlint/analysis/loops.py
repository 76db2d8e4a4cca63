"""Loop exits: does a loop ever end?

Shared by the rules about growth inside endless loops (MEM105), threads that
never stop (MEM301) and self re-arming timers (MEM302).
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from memlint.analysis.constants import evaluate_number


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
    for child in node.children:
        kind = type(child)
        if kind in (cst.FunctionDef, cst.ClassDef, cst.Lambda):
            continue
        if kind is cst.Break:
            if not in_nested_loop:
                yield child
        elif kind is cst.Return or kind is cst.Raise:
            yield child
        elif kind is cst.While or kind is cst.For:
            yield from _leaving(child, in_nested_loop=True)
            continue
        else:
            yield from _leaving(child, in_nested_loop)


def calls_exit(node: cst.CSTNode) -> bool:
    """Whether ``sys.exit``/``os._exit``/``exit``/``quit`` is called inside ``node`` (unresolved names)."""
    for child in node.children:
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
