"""Shared helpers and options for the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent  # the directory holding pyproject.toml
FIXTURES = ROOT / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-fixtures", action="store_true", default=False,
        help="rewrite fixtures/*.expected from memlint's current findings (review the diff)",
    )


@pytest.fixture()
def root() -> Path:
    return ROOT


@pytest.fixture()
def update_fixtures(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-fixtures"))
