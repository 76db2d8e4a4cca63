"""The test suite's own set-up: files it needs are found the same way on
every machine, and a missing one fails in CI instead of being skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from memlint.testing import require_file

ROOT = Path(__file__).resolve().parent.parent


def test_the_sarif_schema_is_looked_up_beside_the_checkout_only(sarif_schema: Path) -> None:
    assert sarif_schema == ROOT.parent / "shared" / "data" / "sarif-schema-2.1.0.json"


def test_a_missing_file_skips_outside_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_file(tmp_path / "absent.json", "the schema")


def test_a_missing_file_fails_in_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        require_file(tmp_path / "absent.json", "the schema")


def test_a_present_file_is_returned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    (tmp_path / "schema.json").write_text("{}")
    assert require_file(tmp_path / "schema.json", "the schema") == tmp_path / "schema.json"
