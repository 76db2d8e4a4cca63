"""SARIF 2.1.0 for code-scanning upload: rule metadata, help and results."""

from __future__ import annotations

import json
import os
from typing import IO, Any
from urllib.parse import quote

from memlint import __version__
from memlint.registry import RUN_CODES, all_rules
from memlint.report.summary import Summary
from memlint.runner import FileResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://pypi.org/project/memlint/"


def rule_descriptors() -> list[dict[str, Any]]:
    descriptors: list[dict[str, Any]] = []
    for run_code in RUN_CODES:
        descriptors.append({
            "id": run_code.code,
            "name": run_code.name,
            "shortDescription": {"text": run_code.message},
            "fullDescription": {"text": run_code.doc},
            "help": {"text": run_code.doc},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": [run_code.family.value]},
        })
    for rule in all_rules():
        doc = (rule.__doc__ or "").strip()
        sections = rule.doc_sections()
        descriptors.append({
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": sections.get("", rule.name).splitlines()[0]},
            "fullDescription": {"text": sections.get("What it does", rule.message)},
            "help": {"text": rule.message, "markdown": _markdown(doc)},
            "defaultConfiguration": {"level": "warning", "enabled": rule.default},
            "properties": {"tags": [rule.family.value, "memory"]},
        })
    return descriptors


def _markdown(doc: str) -> str:
    import inspect

    return inspect.cleandoc(doc)


class SarifReporter:
    def __init__(self, stream: IO[str], *, color: bool = False, statistics: bool = False, show_summary: bool = True) -> None:
        self.stream = stream
        self.results: list[dict[str, Any]] = []
        self.rules = rule_descriptors()
        self.index = {descriptor["id"]: i for i, descriptor in enumerate(self.rules)}

    def file(self, result: FileResult) -> None:
        for d in result.diagnostics:
            self.results.append({
                "ruleId": d.code,
                "ruleIndex": self.index.get(d.code, 0),
                "level": "error" if d.code in ("MEM001", "MEM002") else "warning",
                "message": {"text": d.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(d.path)},
                        "region": {
                            "startLine": d.line,
                            "startColumn": d.column,
                            "endLine": max(d.end_line, d.line),
                            "endColumn": d.end_column if d.end_line > d.line or d.end_column > d.column else d.column + 1,
                        },
                    },
                }],
            })

    def finish(self, summary: Summary) -> None:
        notifications = [
            {"level": "note", "message": {"text": f"{path}: skipped: {why}"}} for path, why in summary.skipped
        ] + [
            {"level": "error", "message": {"text": f"{path}: {why}"}} for path, why in summary.errors
        ]
        document = {
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "memlint",
                    "version": __version__,
                    "informationUri": INFO_URI,
                    "rules": self.rules,
                }},
                "columnKind": "unicodeCodePoints",
                "invocations": [{
                    "executionSuccessful": not summary.errors and not summary.internal_errors,
                    "toolExecutionNotifications": notifications,
                }],
                "results": self.results,
            }],
        }
        json.dump(document, self.stream, indent=2)
        self.stream.write("\n")


def _uri(path: str) -> str:
    # A file name that is not valid UTF-8 is percent-encoded byte for byte.
    return quote(path.replace(os.sep, "/"), errors="surrogateescape")
