"""The reporter interface: results stream in, the summary comes last."""

from __future__ import annotations

from typing import IO, Protocol

from memlint.report.summary import Summary
from memlint.diagnostic import FileResult


class Reporter(Protocol):
    def __init__(self, stream: IO[str], *, color: bool = False, statistics: bool = False, show_summary: bool = True) -> None: ...

    def file(self, result: FileResult) -> None:
        """One file's results, as soon as they are known."""

    def finish(self, summary: Summary) -> None:
        """Everything is known."""
