"""The finding a rule reports: one immutable value per report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


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
