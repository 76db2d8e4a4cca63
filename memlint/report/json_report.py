"""JSON: one document with findings, errors and the summary (schema in README)."""

from __future__ import annotations

import json
from typing import IO

from memlint import __version__
from memlint.report.summary import Summary
from memlint.diagnostic import FileResult


class JsonReporter:
    def __init__(self, stream: IO[str], *, color: bool = False, statistics: bool = False, show_summary: bool = True) -> None:
        self.stream = stream
        self.findings: list[dict[str, object]] = []

    def file(self, result: FileResult) -> None:
        self.findings.extend(d.to_dict() for d in result.diagnostics)

    def finish(self, summary: Summary) -> None:
        document = {
            "version": __version__,
            "findings": self.findings,
            "errors": [{"path": path, "message": why} for path, why in summary.errors],
            "skipped": [{"path": path, "reason": why} for path, why in summary.skipped],
            "summary": summary.to_dict(),
        }
        json.dump(document, self.stream, indent=2)
        self.stream.write("\n")
