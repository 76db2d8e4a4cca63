"""Every fixture's findings are exactly those of its expectation file
(``fixtures/NAME.expected``: order, duplicates, columns and messages count),
and that file agrees with the fixture's inline ``# error:`` markers.

Regenerate the expectation files after an intended change with
``python -m pytest tests/test_fixtures.py --update-fixtures`` and review
the diff; the marker check still runs, so a finding cannot appear or vanish
unless its marker does too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from memlint.testing import (
    expectation_path,
    lint_fixture,
    marker_findings,
    marker_mismatch,
    parse_expectation,
    read_expectation,
    render_expectation,
    write_expectation,
)

ROOT = Path(__file__).resolve().parent.parent
# fixtures/probe/ holds the blind probe, labelled in its own files and scored
# by tests/test_blind_probe.py.
FIXTURES = sorted(p for p in (ROOT / "fixtures").rglob("*.py") if "probe" not in p.relative_to(ROOT / "fixtures").parts)


def test_fixtures_exist() -> None:
    assert FIXTURES, "no fixtures found"


def test_every_expectation_file_has_its_fixture() -> None:
    """An expectation file outliving its fixture would test nothing."""
    orphans = [p.relative_to(ROOT).as_posix() for p in (ROOT / "fixtures").rglob("*.expected") if not p.with_suffix(".py").is_file()]
    assert not orphans, f"expectation files without a fixture: {orphans}"


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_fixture(fixture: Path, update_fixtures: bool) -> None:
    text = fixture.read_text(encoding="utf-8")
    # The path relative to the checkout, so that a message naming the file is
    # the same on every machine.
    actual = render_expectation(lint_fixture(text, fixture.relative_to(ROOT).as_posix()))
    target = expectation_path(fixture)
    if update_fixtures and read_expectation(target) != actual:
        write_expectation(target, actual)
    expected = read_expectation(target)
    assert expected is not None, f"{target.name} is missing: run pytest with --update-fixtures"

    unexpected, unmarked = marker_mismatch(marker_findings(text), parse_expectation(expected))
    assert not unexpected and not unmarked, (
        f"markers and {target.name} disagree: marked but not expected={unexpected}, expected but not marked={unmarked}"
    )
    assert actual == expected, f"findings differ from {target.name} (run with --update-fixtures if intended)"
