"""The engine's contract: isolation of failing rules, suppression, selection."""

from __future__ import annotations

import libcst as cst
import pytest

from memlint.diagnostic import Family
from memlint.engine import LintSettings, lint_source
from memlint.registry import all_rules, select_codes
from memlint.rule import Rule
from memlint.suppression import is_suppressed, noqa_codes
from memlint.testing import lint_text


class _Exploding(Rule):
    """Test double: raises on every call."""

    code = "MEM999"
    name = "exploding"
    family = Family.OOM
    message = "never"

    def visit_Call(self, node: cst.Call) -> None:
        raise ValueError("boom")


def _mem404() -> type[Rule]:
    [rule] = [r for r in all_rules() if r.code == "MEM404"]
    return rule


def test_failing_rule_becomes_mem002_and_others_still_run() -> None:
    settings = LintSettings(rules=(_Exploding, _mem404()), options={"recursion_limit": 10_000})
    found = lint_source("import sys\nsys.setrecursionlimit(10**6)\n", "x.py", settings)
    assert [(d.code, d.line) for d in found] == [("MEM002", 1), ("MEM404", 2)]
    assert "internal error in MEM999 (exploding): ValueError: boom" in found[0].message


def test_syntax_error_reports_parser_position() -> None:
    [finding] = lint_text("x = 1\ny = (\n")
    assert finding.code == "MEM001" and finding.line >= 2


def test_syntax_error_found_even_when_no_rule_can_fire() -> None:
    [finding] = lint_text("def f(:\n    pass\n", select=["MEM001"])
    assert finding.code == "MEM001"


def test_undecodable_and_nul_bytes() -> None:
    settings = LintSettings(rules=(_mem404(),), options={"recursion_limit": 10_000})
    assert [d.code for d in lint_source(b"# -*- coding: nope -*-\nx = 1\n", "x.py", settings)] == ["MEM001"]
    assert [d.code for d in lint_source(b"x = 1\n\x00\n", "x.py", settings)] == ["MEM001"]
    assert [d.code for d in lint_source(b"\xff\xfe garbage", "x.py", settings)] == ["MEM001"]


def test_bom_and_coding_cookie() -> None:
    settings = LintSettings(rules=(_mem404(),), options={"recursion_limit": 10_000})
    text = "# -*- coding: latin-1 -*-\nimport sys\ns = 'caf\xe9'\nsys.setrecursionlimit(10**6)\n"
    assert [d.line for d in lint_source(text.encode("latin-1"), "x.py", settings)] == [4]
    assert [d.line for d in lint_source(b"\xef\xbb\xbfimport sys\nsys.setrecursionlimit(10**6)\n", "x.py", settings)] == [2]


@pytest.mark.parametrize(
    ("line", "codes"),
    [
        ("x  # noqa", frozenset()),
        ("x  # NOQA:MEM201", frozenset({"MEM201"})),
        ("x  # noqa: MEM201,MEM202", frozenset({"MEM201", "MEM202"})),
        ("x  # noqa: MEM201 MEM202", frozenset({"MEM201", "MEM202"})),
        ("x  # nothing here", None),
    ],
)
def test_noqa_parsing(line: str, codes: frozenset[str] | None) -> None:
    assert noqa_codes(line) == codes


def test_noqa_prefix_and_mismatch() -> None:
    assert is_suppressed("MEM201", "x  # noqa: MEM2")
    assert not is_suppressed("MEM404", "x  # noqa: MEM201")


def test_selection_most_specific_wins() -> None:
    defaults = select_codes(None)
    assert "MEM404" in defaults and "MEM001" in defaults
    assert "MEM404" not in select_codes(None, ignore=["MEM4"])
    assert "MEM404" not in select_codes(None, ignore=["MEM"])
    assert select_codes(["MEM4"], ignore=["MEM"]) == select_codes(["MEM4"])
    assert "MEM404" in select_codes(["MEM"], ignore=["MEM4"], extend_select=["MEM404"])
    opt_in = {rule.code for rule in all_rules() if not rule.default}
    assert not (opt_in & defaults)
    assert opt_in <= select_codes(["MEM"])
