"""Every rule documents itself, and its doc examples behave as they say."""

from __future__ import annotations

import pytest

from memlint.registry import all_rules
from memlint.rule import Rule
from memlint.testing import lint_text

RULES = all_rules()
REQUIRED_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_docs_have_sections(rule: type[Rule]) -> None:
    sections = rule.doc_sections()
    for heading in REQUIRED_SECTIONS:
        assert sections.get(heading), f"{rule.code} lacks '## {heading}'"
    assert not rule.message.endswith("."), "messages carry no trailing period"
    assert rule.seed, f"{rule.code} names no seed scenario"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_doc_examples(rule: type[Rule]) -> None:
    bad, good = rule.examples()
    assert bad and good
    for code in bad:
        assert rule.code in {d.code for d in lint_text(code)}, f"Example does not fire:\n{code}"
    for code in good:
        assert rule.code not in {d.code for d in lint_text(code)}, f"Use instead fires:\n{code}"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_triggers_cover_examples(rule: type[Rule]) -> None:
    """The textual pre-filter must let every firing example through."""
    for code in rule.examples()[0]:
        assert rule.can_fire(code)


def test_no_pruning_or_decorators() -> None:
    """libcst ignores `@m.visit` and `return False` pruning under batching;
    rules must not rely on either."""
    import inspect

    for rule in RULES:
        source = inspect.getsource(rule)
        assert "@m.visit" not in source and "call_if_inside" not in source, rule.code
