"""The dispatcher's shortcuts change nothing a rule can observe."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from memlint.diagnostic import Family
from memlint.engine import LintSettings, lint_source
from memlint.rule import Rule

SOURCE = '''\
import os  # a comment


def handler(path, *, retries=3):
    # another comment
    with open(path) as f:
        return [line.strip() for line in f if line], os.sep
'''


class _Recorder(Rule):
    code = "MEM999"
    name = "recorder"
    family = Family.LEAK
    message = "seen"
    seen: ClassVar[list[str]] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.seen.append(f"Name:{node.value}")

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.seen.append(f"leave:{original_node.name.value}")


class _CommentReader(Rule):
    code = "MEM998"
    name = "comment-reader"
    family = Family.LEAK
    message = "comment"
    seen: ClassVar[list[str]] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.seen.append(node.value)


class _Reference(cst.CSTVisitor):
    """libcst's own walk, untouched: what the rules must see."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.seen.append(f"Name:{node.value}")

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.seen.append(f"leave:{original_node.name.value}")

    def visit_Comment(self, node: cst.Comment) -> None:
        self.seen.append(node.value)


def _reference() -> list[str]:
    visitor = _Reference()
    cst.parse_module(SOURCE).visit(visitor)
    return visitor.seen


def test_rules_see_every_node_they_handle_in_order() -> None:
    _Recorder.seen = []
    lint_source(SOURCE, "x.py", LintSettings(rules=(_Recorder,)))
    assert _Recorder.seen == [item for item in _reference() if not item.startswith("#")]


def test_trivia_is_walked_when_a_rule_visits_it() -> None:
    _CommentReader.seen = []
    lint_source(SOURCE, "x.py", LintSettings(rules=(_CommentReader,)))
    assert _CommentReader.seen == ["# a comment", "# another comment"]


def test_both_rules_together() -> None:
    _Recorder.seen, _CommentReader.seen = [], []
    lint_source(SOURCE, "x.py", LintSettings(rules=(_Recorder, _CommentReader)))
    expected = _reference()
    assert _Recorder.seen == [item for item in expected if not item.startswith("#")]
    assert _CommentReader.seen == [item for item in expected if item.startswith("#")]
