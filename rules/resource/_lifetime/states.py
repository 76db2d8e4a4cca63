"""The abstract state the lifetime walk carries along each path, and how the
states of paths that meet are joined."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Final


class Status(Enum):
    """One thing that may have happened to a created object on some path."""

    OPEN = "open"  # created, not yet released
    PLAIN = "plain"  # released by a plain call (`f.close()`) outside a `finally`
    DONE = "done"  # released safely: `with`, `finally`, `closing()`, `ExitStack`
    # Ownership left the function (returned, stored, handed to a call), or the
    # analysis is not sure where it went: never reported.
    GONE = "gone"
    NONE = "none"  # not created on this path (a conditional creation)
    IDLE = "idle"  # a lazy client (`HTTPConnection`) that has not connected yet


# Some path took care of the object.
HANDLED: Final = frozenset({Status.PLAIN, Status.DONE, Status.GONE})


@dataclass(slots=True)
class State:
    """What local names hold, and for each object the set of statuses it may
    have on the paths reaching this point (sets only grow when paths join)."""

    bindings: dict[str, frozenset[int]] = field(default_factory=dict)
    status: dict[int, frozenset[Status]] = field(default_factory=dict)

    def copy(self) -> State:
        return State(dict(self.bindings), dict(self.status))

    def set(self, key: int, value: Status) -> None:
        self.status[key] = frozenset({value})


def join(states: Iterable[State | None]) -> State | None:
    """Merge the states of several paths; None (unreachable) is neutral. An
    object one path never created counts as ``NONE`` on that path."""
    live = [s for s in states if s is not None]
    if not live:
        return None
    if len(live) == 1:
        return live[0].copy()
    out = State()
    names = set().union(*(s.bindings for s in live))
    for name in names:
        out.bindings[name] = frozenset().union(*(s.bindings.get(name, frozenset()) for s in live))
    keys = set().union(*(s.status for s in live))
    for key in keys:
        out.status[key] = frozenset().union(*(s.status.get(key, frozenset({Status.NONE})) for s in live))
    return out


@dataclass(slots=True)
class Frame:
    """The states leaving a loop or a ``try`` with a ``finally`` by a jump,
    kept until the loop (or the ``finally``) decides where they go."""

    is_loop: bool
    returns: list[State] = field(default_factory=list)
    breaks: list[State] = field(default_factory=list)
    continues: list[State] = field(default_factory=list)
