"""The textual pre-filter is sound: skipping rules (and files) by trigger words
never loses a finding, on every fixture and every documented example."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from memlint.engine import LintSettings, lint_source
from memlint.registry import all_rules
from memlint.testing import fixture_options, settings_for

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures").rglob("*.py"))
EXAMPLES = [
    (f"{rule.code}-{kind}-{index}", block)
    for rule in all_rules()
    for kind, blocks in zip(("example", "use-instead"), rule.examples())
    for index, block in enumerate(blocks)
]


def _both_ways(text: str, settings: LintSettings) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    screened = lint_source(text, "case.py", settings)
    unscreened = lint_source(text, "case.py", dataclasses.replace(settings, prefilter=False))
    return [(d.line, d.column, d.code) for d in screened], [(d.line, d.column, d.code) for d in unscreened]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_fixture_findings_do_not_depend_on_the_prefilter(fixture: Path) -> None:
    text = fixture.read_text(encoding="utf-8")
    screened, unscreened = _both_ways(text, settings_for(("MEM",), fixture_options(text)))
    assert screened == unscreened


@pytest.mark.parametrize(("name", "block"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_documented_examples_do_not_depend_on_the_prefilter(name: str, block: str) -> None:
    screened, unscreened = _both_ways(block, settings_for(("MEM",)))
    assert screened == unscreened


def test_unscreened_run_really_runs_every_rule() -> None:
    # A file without any trigger word: screened, no rule runs at all.
    text = "x = 1\n"
    settings = settings_for(("MEM",))
    assert not [rule for rule in settings.rules if rule.triggers and rule.can_fire(text)]
    screened, unscreened = _both_ways(text, settings)
    assert screened == unscreened == []
