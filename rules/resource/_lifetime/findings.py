"""What the lifetime analysis concludes: a creation that leaks, and why.

The analysis says *why* (a ``Reason``); each rule says how its users read
it (its ``messages``, one template per reason, in the rule's own module).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import libcst as cst

from memlint.analysis.resources import ResourceKind


class Reason(Enum):
    """Why a creation is reported."""

    DROPPED = "dropped"  # used once and dropped: `open(p).read()`, a bare call
    NEVER = "never"  # bound to a local, released on no path
    SKIPPED = "skipped"  # released on some paths, an early exit skips it
    REBOUND = "rebound"  # the name is re-bound while the object is open
    LOOP = "loop"  # created in a loop, the next iteration drops it
    NOT_IN_FINALLY = "not-in-finally"  # strict: an exception skips the release
    WITH_ONLY_COMMITS = "with-only-commits"  # `with sqlite3.connect()` does not close
    CLASS_FORGETS = "class-forgets"  # stored on self; no teardown method releases it


@dataclass(frozen=True, slots=True)
class Finding:
    """A creation that leaks, and why."""

    node: cst.Call
    kind: ResourceKind
    callee: str
    reason: Reason
    detail: str = ""  # the attribute for CLASS_FORGETS
