"""The test suite's own set-up: files it needs are found the same way on
every machine (a missing one fails in CI instead of being skipped), a plain
``pytest`` leaves the slow tests out, and CI runs README's command, which
selects everything."""

from __future__ import annotations

import shlex
import subprocess
import sys
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


README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"


def code_block_lines(markdown: str) -> list[str]:
    """The lines inside the fenced code blocks of ``markdown``."""
    lines: list[str] = []
    inside = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line.strip())
    return lines


def readme_test_command() -> str:
    """The README's one command block that runs the test suite (prose
    mentioning pytest is not a command)."""
    commands = [line for line in code_block_lines(README.read_text(encoding="utf-8")) if "-m pytest" in line]
    assert len(commands) == 1, f"README should show exactly one test command in a code block, found {commands}"
    return commands[0]


def ci_command() -> str:
    """.ci/run's command: its last line that is not a comment, `set` or `cd`."""
    lines = [line.strip() for line in CI_RUN.read_text(encoding="utf-8").splitlines()]
    commands = [line for line in lines if line and not line.startswith(("#", "set ", "cd "))]
    assert commands, ".ci/run runs nothing"
    return commands[-1]


def test_ci_runs_exactly_readmes_test_command() -> None:
    assert ci_command() == readme_test_command()


def test_ci_keeps_pytests_exit_status() -> None:
    """`set -e`, and nothing after the command that could turn a failure
    (1) or an empty selection (5) into success."""
    text = CI_RUN.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text
    assert "|| true" not in text and "exit 0" not in text
    assert text.rstrip().endswith(readme_test_command())


def _collected(*args: str) -> str:
    """Node ids pytest collects from two small files with ``args`` added to
    the configured addopts (one slow test, three quick ones). No conftest:
    these two files need none, and importing it (libcst) is most of the cost."""
    files = ["tests/test_stdlib_crash_free.py", "tests/test_docs_hygiene.py"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "--noconftest", "-p", "no:cacheprovider", *args, *files],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_plain_pytest_leaves_out_slow_tests_and_readmes_command_selects_them() -> None:
    slow = "test_stdlib_crash_free.py::test_stdlib_test_directory_is_crash_free_and_fully_accounted"
    plain = _collected()
    assert slow not in plain and "deselected" in plain, plain
    pytest_args = shlex.split(readme_test_command().split("-m pytest", 1)[1])
    full = _collected(*pytest_args)
    assert slow in full and "deselected" not in full, full
