"""Bad configuration: one line naming file, line and key; exit 2; no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from memlint.cli import main


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        # TOML syntax errors: tomllib's own position.
        ("[tool.memlint\nselect = []\n", "pyproject.toml: invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 14)"),
        ("[tool.memlint]\nselect = [\"MEM4\"\n", "pyproject.toml: invalid TOML: Unclosed array (at end of document)"),
        ("[tool.memlint]\nselect = [\"MEM4\"]\nselect = []\n", "pyproject.toml: invalid TOML: Cannot overwrite a value (at line 3, column 12)"),
        # Wrong types.
        ("[project]\nname = \"app\"\n\n[tool.memlint]\nselect = \"MEM4\"\n",
         "pyproject.toml:5: tool.memlint.select: expected a list of strings, got the string 'MEM4'"),
        ("[tool.memlint]\nexclude = [1, 2]\n", "pyproject.toml:2: tool.memlint.exclude: expected a list of strings, got [1, 2]"),
        ("[tool.memlint]\nmax-file-size = \"huge\"\n",
         "pyproject.toml:2: tool.memlint.max-file-size: expected a byte size such as 1073741824 or \"1GiB\", got 'huge'"),
        ("[tool.memlint]\nmax-file-size = true\n", "pyproject.toml:2: tool.memlint.max-file-size: expected a byte size"),
        ("[tool.memlint]\nrecursion-limit = \"lots\"\n", "pyproject.toml:2: tool.memlint.recursion-limit: expected an integer, got 'lots'"),
        ("[tool.memlint]\nper-file-ignores = [\"tests/*\"]\n", "pyproject.toml:2: tool.memlint.per-file-ignores: expected a table of glob = [codes]"),
        ("[tool.memlint.per-file-ignores]\n\"tests/*\" = [\"MEM4\"]\n\"scripts/*\" = 4\n",
         "pyproject.toml:3: tool.memlint.per-file-ignores.\"scripts/*\": expected a list of strings, got 4"),
        ("[tool]\nmemlint = 3\n", "pyproject.toml:2: tool.memlint: [tool.memlint] must be a table"),
        # Unknown keys and codes.
        ("[tool.memlint]\n\nselekt = [\"MEM4\"]\n", "pyproject.toml:3: tool.memlint.selekt: unknown key (did you mean 'select'?)"),
        ("[tool.memlint]\nrecursion-limt = 5\n", "pyproject.toml:2: tool.memlint.recursion-limt: unknown key (did you mean 'recursion-limit'?)"),
        ("[tool.memlint]\ncolour = true\n", "pyproject.toml:2: tool.memlint.colour: unknown key"),
        ("[tool.memlint]\nignore = [\"MEM999\"]\n", "pyproject.toml:2: tool.memlint.ignore: unknown rule code 'MEM999'"),
    ],
)
def test_bad_config_is_one_line_with_file_line_and_key(
    project: Path, capsys: pytest.CaptureFixture[str], toml: str, expected: str,
) -> None:
    (project / "pyproject.toml").write_text(toml)
    assert main(["app.py"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("memlint: config error: ")
    assert f"{project}/{expected}" in err


def test_bad_explicit_config_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "memlint.toml").write_bytes(b"select = [\"MEM4\"]\nextend-exclude = \"\xff\"\n")
    assert main(["--config", "memlint.toml", "app.py"]) == 2
    assert "memlint.toml: cannot read: 'utf-8' codec can't decode byte 0xff" in capsys.readouterr().err
    assert main(["--config", "missing.toml", "app.py"]) == 2
    assert capsys.readouterr().err == "memlint: config error: missing.toml: config file not found\n"


def test_unrelated_broken_pyproject_is_ignored(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text("[project\nname = \n")
    assert main(["app.py"]) == 0


def test_config_error_through_the_real_entry_point(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.memlint]\nmax-file-size = -5\n")
    result = subprocess.run([sys.executable, "-m", "memlint", "app.py"], cwd=project, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == f"memlint: config error: {project}/pyproject.toml:2: tool.memlint.max-file-size: a byte size cannot be negative\n"
