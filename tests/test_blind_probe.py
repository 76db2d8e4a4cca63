"""The blind probe: cases written from the rule catalogue alone by people who
had not read memlint's code, scored per family (recall and precision).

``fixtures/probe/<family>/labels.tsv`` lists, per case file, each expected
report (``pos``: line and code) or the rule a case must not trigger
(``neg``). A report matches a label when it has the label's code and lies in
the statement holding the labelled line (the catalogue does not say which
line of a statement a report points at). MEM402 leaves to MEM401 the reads
that MEM401 reports (both rules' documentation says so), so a MEM402 label
is also met by a MEM401 report there. Reports of other families' codes are
not counted: each family's labels speak only for that family.

docs/precision.md gives the scores and the probe's size; this test keeps
them from falling below the targets.
"""

from __future__ import annotations

import ast
import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from memlint.testing import lint_text

PROBE = Path(__file__).resolve().parent.parent / "fixtures" / "probe"
FAMILIES = {"leak": "MEM1", "resource": "MEM2", "lifecycle": "MEM3", "oom": "MEM4"}
# A report another rule gives in this rule's place, by both rules' documentation.
STANDS_IN: dict[str, str] = {"MEM402": "MEM401"}
MIN_RECALL = 0.90
MIN_PRECISION = 0.95


@dataclass(frozen=True)
class Score:
    found: int  # positive labels met
    missed: list[str]
    false: list[str]  # reports no positive label asked for

    @property
    def recall(self) -> float:
        return self.found / (self.found + len(self.missed))

    @property
    def precision(self) -> float:
        return self.found / (self.found + len(self.false)) if self.found + len(self.false) else 1.0


def statement_lines(source: str, line: int) -> range:
    """The lines of the innermost statement holding ``line`` (a compound
    statement's header only, decorators included)."""
    best = range(line, line + 1)
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.stmt):
            continue
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        body = getattr(node, "body", None)
        end = body[0].lineno - 1 if isinstance(body, list) and body and body[0].lineno > node.lineno else node.end_lineno
        assert end is not None
        if start <= line <= end and (best == range(line, line + 1) or end - start < len(best) - 1):
            best = range(start, end + 1)
    return best


def score(family: str) -> Score:
    root = PROBE / family
    with (root / "labels.tsv").open(encoding="utf-8", newline="") as handle:
        labels = list(csv.DictReader(handle, delimiter="\t"))
    reports: dict[str, list[tuple[int, str]]] = {}
    for case in sorted(root.glob("case_*.py")):
        found = lint_text(case.read_text(encoding="utf-8"), path=case.name)
        reports[case.name] = [(d.line, d.code) for d in found if d.code.startswith(FAMILIES[family])]
    used: set[tuple[str, int]] = set()
    found_count, missed = 0, []
    for label in labels:
        if label["kind"] != "pos":
            continue
        name, code = label["file"], label["code"]
        lines = statement_lines((root / name).read_text(encoding="utf-8"), int(label["line"]))
        candidates = [i for i, (line, got) in enumerate(reports[name]) if got == code and line in lines]
        unused = [i for i in candidates if (name, i) not in used]
        if unused:
            used.add((name, unused[0]))
            found_count += 1
        elif code in STANDS_IN and any(got == STANDS_IN[code] and line in lines for line, got in reports[name]):
            found_count += 1
        else:
            missed.append(f"{family}/{name}:{label['line']} {code}")
    false = [
        f"{family}/{name}:{line} {code}"
        for name, found in reports.items() for i, (line, code) in enumerate(found) if (name, i) not in used
    ]
    return Score(found_count, missed, false)


def test_probe_is_complete() -> None:
    """Every family has at least 25 labelled cases, positives and negatives."""
    for family in FAMILIES:
        root = PROBE / family
        with (root / "labels.tsv").open(encoding="utf-8", newline="") as handle:
            labels = list(csv.DictReader(handle, delimiter="\t"))
        kinds = Counter(label["kind"] for label in labels)
        assert len({label["file"] for label in labels}) >= 25, family
        assert kinds["pos"] >= 10 and kinds["neg"] >= 10, (family, kinds)
        assert {label["file"] for label in labels} == {p.name for p in root.glob("case_*.py")}, family


@pytest.mark.parametrize("family", list(FAMILIES))
def test_probe_recall_and_precision(family: str) -> None:
    result = score(family)
    assert result.recall >= MIN_RECALL, f"{family} recall {result.recall:.2f}; missed {result.missed}"
    assert result.precision >= MIN_PRECISION, f"{family} precision {result.precision:.2f}; false {result.false}"
