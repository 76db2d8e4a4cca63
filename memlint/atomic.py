"""Atomic file replacement: the one way memlint writes the user's files
(baselines, cache entries, generated docs)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(target: Path, payload: bytes | str) -> None:
    """Write a temporary sibling and rename it over ``target``: readers (and
    a concurrent memlint) see the old content or the new, never a mix, and
    an interrupted write leaves no partial file behind."""
    directory = target.parent if str(target.parent) else Path(".")
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        data = payload.encode("utf-8") if isinstance(payload, str) else payload
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
