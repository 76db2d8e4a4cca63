"""GitHub Actions workflow commands: one ``::error`` annotation per finding."""

from __future__ import annotations

from typing import IO

from memlint.report.summary import Summary
from memlint.diagnostic import FileResult


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReporter:
    def __init__(self, stream: IO[str], *, color: bool = False, statistics: bool = False, show_summary: bool = True) -> None:
        self.stream = stream

    def file(self, result: FileResult) -> None:
        for d in result.diagnostics:
            level = "error" if d.code in ("MEM001", "MEM002") else "warning"
            # GitHub rejects columns on an annotation that spans lines.
            span = (
                f"line={d.line},col={d.column},endColumn={max(d.end_column, d.column)}"
                if d.end_line <= d.line else f"line={d.line},endLine={d.end_line}"
            )
            props = f"file={_escape_property(d.path)},{span},title={_escape_property(f'{d.code} {d.name}')}"
            self.stream.write(f"::{level} {props}::{_escape_data(f'{d.code} {d.message}')}\n")

    def finish(self, summary: Summary) -> None:
        for path, why in summary.errors:
            self.stream.write(f"::error file={_escape_property(path)}::{_escape_data(why)}\n")
