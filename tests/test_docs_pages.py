"""docs/rules/ and README.md's rule table are generated from the registry and must not drift from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from memlint import docs
from memlint.cli import main
from memlint.diagnostic import RUN_CODES
from memlint.registry import all_rules

ROOT = Path(__file__).resolve().parent.parent
RULE_DOCS = ROOT / "docs" / "rules"


def test_docs_rules_match_the_registry() -> None:
    """Every rule present (whoever wrote it) has an up-to-date page, and no
    page outlives its rule."""
    stale = docs.drift(RULE_DOCS)
    assert not stale, f"docs/rules/ is out of date for {stale}: run `python -m memlint.docs`"


def test_every_code_has_a_page_with_its_sections() -> None:
    pages = docs.pages()
    for run_code in RUN_CODES:
        assert f"{run_code.code}.md" in pages
    for rule in all_rules():
        page = pages[f"{rule.code}.md"]
        assert page.startswith(f"# {rule.code} {rule.name}\n")
        for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
            assert heading in page, (rule.code, heading)
        assert f" scenario: {rule.seed}\n" in page
        for option in rule.options:
            assert f"`{option.key}`" in page and f"--memlint-{option.key}" in page
        assert ("Default: on" in page) == rule.default
        assert f"[{rule.code}]({rule.code}.md)" in pages["README.md"]


@pytest.mark.parametrize("rule", all_rules(), ids=[r.code for r in all_rules()])
def test_scenario_is_plain_english(rule: type) -> None:
    """The scenario a page names (the rule's ``seed``) is for users: no
    section numbers of notes they cannot read, no glosses in another language."""
    text = rule.seed
    assert text and text.isascii(), text
    assert not re.match(r"\d+(\.\d+)*\b", text) and "scenario" not in text.lower(), text


def test_memlint_rule_prints_the_page(capsys: pytest.CaptureFixture[str]) -> None:
    for code in [r.code for r in RUN_CODES] + [r.code for r in all_rules()]:
        assert main(["rule", code.lower()]) == 0
        assert capsys.readouterr().out == docs.pages()[f"{code}.md"]


def test_readme_rule_table_matches_the_registry() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert docs.with_readme_table(text) == text, "README.md's rule table is out of date: run `python -m memlint.docs`"


def test_readme_table_lists_every_code_once() -> None:
    table = docs.readme_table()
    for code in [r.code for r in RUN_CODES] + [r.code for r in all_rules()]:
        assert table.count(f"| {code} |") + table.count(f"[{code}](docs/rules/{code}.md)") == 1, code


def test_generator_writes_checks_and_prunes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "rules"
    readme = tmp_path / "README.md"
    readme.write_text("# project\n\n<!-- rules-table -->\nold table\n<!-- /rules-table -->\n\nmore\n")
    assert docs.main([str(target), "--readme", str(readme), "--check"]) == 1
    assert docs.main([str(target), "--readme", str(readme)]) == 0
    assert docs.main([str(target), "--readme", str(readme), "--check"]) == 0
    assert readme.read_text() == "# project\n\n<!-- rules-table -->\n" + docs.readme_table() + "<!-- /rules-table -->\n\nmore\n"
    assert sorted(p.name for p in target.iterdir()) == sorted(docs.pages())  # no temp files left
    (target / "MEM999.md").write_text("a removed rule\n")
    (target / "MEM404.md").write_text("edited by hand\n")
    assert sorted(docs.drift(target)) == ["MEM404.md", "MEM999.md"]
    docs.main([str(target), "--no-readme"])
    assert not (target / "MEM999.md").exists() and docs.drift(target) == []
