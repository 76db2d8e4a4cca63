"""Shared helpers and options for the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from memlint.testing import require_file

ROOT = Path(__file__).resolve().parent.parent  # the directory holding pyproject.toml
FIXTURES = ROOT / "fixtures"
# The official SARIF 2.1.0 schema is not vendored: CI checks the repository
# out with a `shared/` directory beside it. Only this relative location
# counts, so a test never passes thanks to one machine's layout.
SARIF_SCHEMA = ROOT.parent / "shared" / "data" / "sarif-schema-2.1.0.json"


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


@pytest.fixture()
def sarif_schema() -> Path:
    return require_file(SARIF_SCHEMA, "the SARIF 2.1.0 schema (<repository>/../shared/data/)")
