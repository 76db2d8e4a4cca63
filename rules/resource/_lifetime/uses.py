"""How an expression uses a value, and what that use does to a resource.

The walk gives every expression it descends into a ``Use`` (how its parent
takes the value: drops it, tests it, iterates it, hands it on...) or an
``AttributeUse`` (the value is the receiver of ``.name``). The two functions
at the end are the analysis's policy: what a use does to a resource just
created (``creation_outcome``) and to one a local name holds
(``held_effect``). They read no state, so each rule of the policy is one
line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import libcst as cst

from memlint.analysis.resources import (
    CALLBACK_METHODS,
    NON_OWNING_CONSUMERS,
    NON_OWNING_METHODS,
    READ_TO_END_CONSUMERS,
    READ_TO_END_METHODS,
    RELEASING_METHODS,
    RELEASING_WRAPPERS,
    ResourceKind,
    is_lazy,
)
from memlint.rules.resource._lifetime.tables import BOUND_HANDOFFS, HANDOFF_METHODS, IDENTIFYING_ATTRIBUTES


class Use(Enum):
    """How a parent takes the value of one of its expressions."""

    BIND = "bind"  # bound to a name by an assignment: the walk follows the name
    DROP = "drop"  # expression statement
    NEUTRAL = "neutral"  # read without taking it over: tests, indexing, f-strings
    CONSUMER = "consumer"  # argument of a known non-owning consumer
    READ_TO_END = "read-to-end"  # first argument of a consumer that reads it to its end (`json.load(fp)`)
    ITER = "iter"  # iterated by `for`/a list comprehension
    RELEASE = "release"  # argument of `closing()` / `enter_context()`
    CALLBACK = "callback"  # argument of `stack.callback()`
    WITH = "with"  # a with item
    ESCAPE = "escape"  # anything else: returned, stored, handed off, unknown


@dataclass(frozen=True, slots=True)
class AttributeUse:
    """The value is the receiver of ``.name`` (called or not), whose own
    value its parent takes as ``parent_use``."""

    name: str
    called: bool
    parent_use: Use
    bare: bool = False  # called with no argument: `resp.read()` reads to the end


def argument_use(call: cst.Call, resolve: Callable[[cst.BaseExpression], str | None]) -> Use:
    """How ``call`` takes its arguments."""
    func = call.func
    name = resolve(func)
    if name in READ_TO_END_CONSUMERS:
        return Use.READ_TO_END
    if name in NON_OWNING_CONSUMERS:
        return Use.CONSUMER
    if name in RELEASING_WRAPPERS:
        return Use.RELEASE
    if isinstance(func, cst.Attribute):
        if func.attr.value in NON_OWNING_METHODS:
            return Use.CONSUMER
        if func.attr.value in RELEASING_METHODS:
            return Use.RELEASE
        if func.attr.value in CALLBACK_METHODS:
            return Use.CALLBACK
    return Use.ESCAPE


class Outcome(Enum):
    """What a use does to a resource at the moment it is created."""

    HELD = "held"  # the parent binds it to a name: follow the name
    DROPPED = "dropped"  # used once and lost: a leak
    LET_GO = "let-go"  # released at once, handed on, or holding nothing yet


def creation_outcome(use: Use | AttributeUse, call: cst.Call, kind: ResourceKind) -> Outcome:
    """``open(p).read()`` drops the file, ``open(p).close()`` releases it,
    ``f = open(p)`` holds it; a lazy client (``HTTPConnection(host)``) that
    never connects holds nothing to leak."""
    if use is Use.BIND:
        return Outcome.HELD
    lazy = is_lazy(call, kind)
    if isinstance(use, AttributeUse):
        if use.called and (use.name in kind.release or use.name in HANDOFF_METHODS or _reads_to_end(use, kind)):
            return Outcome.LET_GO  # `urlopen(url).read()` has closed its socket at the end of the body
        if not lazy or (use.called and use.name in kind.opens_on):
            return Outcome.DROPPED
    elif use is Use.READ_TO_END and kind.released_at_end:
        return Outcome.LET_GO
    elif use in (Use.DROP, Use.CONSUMER, Use.READ_TO_END, Use.ITER) and not lazy:
        return Outcome.DROPPED
    elif use is Use.WITH and not kind.with_releases:
        return Outcome.HELD  # `with sqlite3.connect() as c:` binds an open connection
    return Outcome.LET_GO


class Effect(Enum):
    """What a use of a local name does to the resource the name holds."""

    RELEASE = "release"  # a plain call: `f.close()`
    SAFE_RELEASE = "safe-release"  # `with f:`, `closing(f)`, `stack.callback(f.close)`
    ESCAPE = "escape"  # someone else has it now, or the analysis cannot tell
    CONNECT = "connect"  # a lazy client starts holding a socket


def held_effect(use: Use | AttributeUse, kind: ResourceKind) -> Effect | None:
    """What ``use`` of a name holding a ``kind`` resource does to it (None: nothing)."""
    if isinstance(use, AttributeUse):
        if use.name in kind.release or _reads_to_end(use, kind):
            if use.called:
                return Effect.RELEASE
            if use.parent_use is Use.CALLBACK:
                return Effect.SAFE_RELEASE
            return Effect.ESCAPE  # `atexit.register(f.close)`: someone else closes it
        if use.name in HANDOFF_METHODS:
            return Effect.ESCAPE
        if use.name in IDENTIFYING_ATTRIBUTES and not use.called and use.parent_use is Use.ESCAPE:
            return Effect.ESCAPE  # `reap(proc.pid)`: other code may wait for it by pid
        if use.name in BOUND_HANDOFFS and not use.called and use.parent_use in (Use.ESCAPE, Use.CALLBACK):
            return Effect.ESCAPE
        if use.called and use.name in kind.opens_on:
            return Effect.CONNECT
        return None
    if use is Use.RELEASE or (use is Use.WITH and kind.with_releases):
        return Effect.SAFE_RELEASE
    if use is Use.READ_TO_END and kind.released_at_end:
        return Effect.RELEASE
    if use in (Use.ESCAPE, Use.CALLBACK, Use.BIND):
        return Effect.ESCAPE
    return None


def _reads_to_end(use: AttributeUse, kind: ResourceKind) -> bool:
    """``resp.read()`` with no size on a resource that a read to its end releases."""
    return kind.released_at_end and use.called and use.bare and use.name in READ_TO_END_METHODS
