"""What a run produces: findings (``Diagnostic``), one ``FileResult`` per file,
and the codes the run itself reports (MEM001, MEM002).

Imports nothing of memlint: the engine, the runner and the reporters all take
these values from here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final


class Family(str, Enum):
    """The seed's distinction: how memory is lost."""

    RUN = "run"  # the run itself: parse errors, internal errors
    LEAK = "leak"  # gradual growth
    RESOURCE = "resource"  # a handle never released
    LIFECYCLE = "lifecycle"  # a thread, timer or task never stopped
    OOM = "oom"  # one sudden large allocation


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One finding. Lines are 1-based, columns 1-based (flake8 style)."""

    path: str
    line: int
    column: int
    code: str
    message: str
    end_line: int
    end_column: int
    name: str
    family: Family

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
            "name": self.name,
            "family": self.family.value,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class FileResult:
    """What happened to one file."""

    path: str
    diagnostics: tuple[Diagnostic, ...] = ()
    skipped: str | None = None  # why the file was not checked


@dataclass(frozen=True, slots=True)
class RunCode:
    """A code the engine itself reports (no visitor behind it)."""

    code: str
    name: str
    family: Family
    default: bool
    message: str
    doc: str


SYNTAX_ERROR: Final = RunCode(
    "MEM001", "syntax-error", Family.RUN, True, "file cannot be parsed",
    "The file could not be parsed (or decoded), so no rule could check it. "
    "The parser's line, column and message are reported; the run goes on.",
)
INTERNAL_ERROR: Final = RunCode(
    "MEM002", "internal-error", Family.RUN, True, "a rule failed on this file",
    "A rule raised an exception on this file. The other rules and files still "
    "ran; the exit status is 2. Please report it with the file that triggers it.",
)
RUN_CODES: Final = (SYNTAX_ERROR, INTERNAL_ERROR)
