"""SARIF 2.1.0 for code-scanning upload: rule metadata, help and results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from memlint import __version__
from memlint.baseline import fingerprints, read_lines
from memlint.config import relative_posix
from memlint.diagnostic import RUN_CODES
from memlint.registry import all_rules
from memlint.report.summary import Summary
from memlint.diagnostic import FileResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://pypi.org/project/memlint/"
FINGERPRINT_KEY = "memlint/v1"


def rule_descriptors() -> list[dict[str, Any]]:
    # Rule descriptors carry each rule's documentation: SARIF output imports
    # the rules (and libcst) even when every result comes from the cache.
    from memlint.docs import rule_text

    descriptors: list[dict[str, Any]] = []
    for run_code in RUN_CODES:
        descriptors.append({
            "id": run_code.code,
            "name": run_code.name,
            "shortDescription": {"text": run_code.message},
            "fullDescription": {"text": run_code.doc},
            "help": {"text": run_code.doc, "markdown": rule_text(run_code.code) or run_code.doc},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": [run_code.family.value], "precision": "very-high", "problem.severity": "error"},
        })
    for rule in all_rules():
        sections = rule.doc_sections()
        what = sections.get("What it does", "") or sections.get("", rule.name)
        why = sections.get("Why is this bad?", "")
        descriptors.append({
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": _plain(sections.get("", "") or what).split("\n\n")[0]},
            "fullDescription": {"text": _plain(what)},
            # Code scanning shows `help` beside each alert: the whole rule page.
            "help": {"text": _plain(f"{what}\n\n{why}".strip()), "markdown": rule_text(rule.code) or what},
            "defaultConfiguration": {"level": "warning", "enabled": rule.default},
            # No security-severity: these are reliability findings, not
            # vulnerabilities. precision follows the default-rule bar (9 in 10).
            "properties": {
                "tags": [rule.family.value, "memory", "reliability"],
                "precision": "high" if rule.default else "medium",
                "problem.severity": "warning",
            },
        })
    return descriptors


def _plain(markdown: str) -> str:
    """Markdown prose as plain text: backticks dropped, lines joined."""
    paragraphs = [" ".join(p.split()) for p in markdown.replace("`", "").split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


class SarifReporter:
    def __init__(self, stream: IO[str], *, color: bool = False, statistics: bool = False, show_summary: bool = True) -> None:
        self.stream = stream
        self.results: list[dict[str, Any]] = []
        self.rules = rule_descriptors()
        self.index = {descriptor["id"]: i for i, descriptor in enumerate(self.rules)}

    def file(self, result: FileResult) -> None:
        uri = _uri(result.path)
        # The baseline's fingerprints, keyed by the artifact path: stable
        # across unrelated edits, so code scanning tracks alerts across commits.
        prints = fingerprints(result.diagnostics, uri, read_lines(result.path)) if result.diagnostics else []
        for d, fingerprint in zip(result.diagnostics, prints):
            self.results.append({
                "ruleId": d.code,
                "ruleIndex": self.index.get(d.code, 0),
                "level": "error" if d.code in ("MEM001", "MEM002") else "warning",
                "message": {"text": d.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {
                            "startLine": d.line,
                            "startColumn": d.column,
                            "endLine": max(d.end_line, d.line),
                            "endColumn": d.end_column if d.end_line > d.line or d.end_column > d.column else d.column + 1,
                        },
                    },
                }],
                "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
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
    """Relative to the working directory (the repository root in CI), as
    code scanning expects; an absolute file URI for paths outside it."""
    relative = relative_posix(Path(path), Path.cwd())
    if relative == ".." or relative.startswith("../") or Path(relative).is_absolute():
        return Path(path).resolve().as_uri()
    return quote(relative, errors="surrogateescape")  # a non-UTF-8 name, byte for byte
