"""flake8-style text: ``path:line:col: CODE message``, then a summary by family."""

from __future__ import annotations

from typing import IO

from memlint.diagnostic import Family
from memlint.diagnostic import RUN_CODES
from memlint.registry import info_by_code
from memlint.report.summary import FAMILY_TITLES, Summary
from memlint.diagnostic import FileResult

_BOLD, _RED, _CYAN, _DIM, _RESET = "\033[1m", "\033[31m", "\033[36m", "\033[2m", "\033[0m"


class TextReporter:
    def __init__(self, stream: IO[str], *, color: bool = False, statistics: bool = False, show_summary: bool = True) -> None:
        self.stream = stream
        self.color = color
        self.statistics = statistics
        self.show_summary = show_summary

    def _c(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text

    def file(self, result: FileResult) -> None:
        for d in result.diagnostics:
            location = self._c(_BOLD, f"{d.path}:{d.line}:{d.column}:")
            self.stream.write(f"{location} {self._c(_RED, d.code)} {d.message}\n")

    def finish(self, summary: Summary) -> None:
        write = self.stream.write
        if self.statistics:
            for code, count in sorted(summary.by_code.items()):
                write(f"{count:<5} {code} {_name(code)}\n")
        if not self.show_summary:
            return
        if summary.skipped:
            for path, why in summary.skipped:
                write(self._c(_DIM, f"{path}: skipped: {why}") + "\n")
        checked = f"{summary.files_checked} file{'s' if summary.files_checked != 1 else ''} checked"
        if summary.skipped:
            checked += f", {len(summary.skipped)} skipped"
        if summary.excluded:
            checked += f", {summary.excluded} excluded"
        if not summary.findings:
            write(f"{checked}: no findings.\n")
            return
        write(f"\n{checked}: {summary.findings} finding{'s' if summary.findings != 1 else ''}\n")
        for family in (Family.LEAK, Family.RESOURCE, Family.LIFECYCLE, Family.OOM, Family.RUN):
            count = summary.by_family.get(family, 0)
            if not count:
                continue
            write(f"  {self._c(_CYAN, FAMILY_TITLES[family])}: {count}\n")
            for code, n in sorted(summary.by_code.items()):
                if _family(code) is family:
                    write(f"    {code} {_name(code)}: {n}\n")


def _name(code: str) -> str:
    rule = info_by_code(code)
    if rule is not None:
        return rule.name
    return next((r.name for r in RUN_CODES if r.code == code), "")


def _family(code: str) -> Family:
    rule = info_by_code(code)
    if rule is not None:
        return rule.family
    return Family.RUN
