"""Every fixture's inline expectations hold exactly: no missing, no extra findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from memlint.testing import check_fixture

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures").rglob("*.py"))


def test_fixtures_exist() -> None:
    assert FIXTURES, "no fixtures found"


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_fixture(fixture: Path) -> None:
    missing, extra = check_fixture(fixture.read_text(encoding="utf-8"), str(fixture))
    assert not missing and not extra, f"missing={sorted(missing)} extra={sorted(extra)}"
