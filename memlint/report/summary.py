"""What a run found, counted per family and per code, plus skipped files."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from memlint.diagnostic import Diagnostic, Family
from memlint.diagnostic import FileResult

FAMILY_TITLES = {
    Family.LEAK: "leak (memory that only grows)",
    Family.RESOURCE: "resource (handles never released)",
    Family.LIFECYCLE: "lifecycle (threads, timers, tasks never stopped)",
    Family.OOM: "oom (one sudden large allocation)",
    Family.RUN: "run (files memlint could not check)",
}


@dataclass(slots=True)
class Summary:
    files_checked: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # path problems the user must fix
    excluded: int = 0  # files and directories left out by exclude patterns or .gitignore
    by_code: Counter[str] = field(default_factory=Counter)
    by_family: Counter[Family] = field(default_factory=Counter)

    def add(self, result: FileResult) -> None:
        if result.skipped is not None:
            self.skipped.append((result.path, result.skipped))
            return
        self.files_checked += 1
        for diagnostic in result.diagnostics:
            self.count(diagnostic)

    def count(self, diagnostic: Diagnostic) -> None:
        self.by_code[diagnostic.code] += 1
        self.by_family[diagnostic.family] += 1

    @property
    def findings(self) -> int:
        return sum(self.by_code.values())

    @property
    def internal_errors(self) -> int:
        return self.by_code.get("MEM002", 0)

    def to_dict(self) -> dict[str, object]:
        return {
            "files_checked": self.files_checked,
            "files_skipped": len(self.skipped),
            "paths_excluded": self.excluded,
            "findings": self.findings,
            "by_family": {family.value: n for family, n in sorted(self.by_family.items(), key=lambda kv: kv[0].value)},
            "by_code": dict(sorted(self.by_code.items())),
        }
