"""The real entry point, run as a subprocess: formats, exit codes, config and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LEAKY = "import sys\n\nsys.setrecursionlimit(10**6)\n"
CLEAN = "import sys\n\nsys.setrecursionlimit(2000)\n"


def memlint(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    return subprocess.run(
        [sys.executable, "-m", "memlint", *args],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=120, input=stdin,
    )


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "leaky.py").write_text(LEAKY)
    (tmp_path / "pkg" / "clean.py").write_text(CLEAN)
    return tmp_path


def test_text_format_and_exit_one(project: Path) -> None:
    result = memlint("pkg", cwd=project)
    assert result.returncode == 1, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("pkg/leaky.py:3:1: MEM404 `sys.setrecursionlimit` raised to 1,000,000")
    assert "2 files checked: 1 finding" in result.stdout
    assert "oom (one sudden large allocation): 1" in result.stdout
    assert "\033[" not in result.stdout  # no colour when not a TTY


def test_clean_run_exits_zero(project: Path) -> None:
    result = memlint("pkg/clean.py", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 file checked: no findings." in result.stdout


def test_default_path_is_cwd_and_check_subcommand(project: Path) -> None:
    assert memlint(cwd=project).returncode == 1
    assert memlint("check", cwd=project).returncode == 1


def test_exit_zero(project: Path) -> None:
    assert memlint("--exit-zero", "pkg", cwd=project).returncode == 0


def test_json_format(project: Path) -> None:
    result = memlint("--format", "json", "pkg", cwd=project)
    document = json.loads(result.stdout)
    assert set(document) == {"version", "findings", "errors", "skipped", "summary"}
    [finding] = document["findings"]
    assert finding == {
        "path": "pkg/leaky.py", "line": 3, "column": 1, "end_line": 3, "end_column": 29,
        "code": "MEM404", "name": "raised-recursion-limit", "family": "oom",
        "message": finding["message"],
    }
    assert document["summary"]["files_checked"] == 2
    assert document["summary"]["by_code"] == {"MEM404": 1}


def test_sarif_validates_against_official_schema(project: Path, sarif_schema: Path) -> None:
    import jsonschema  # a test dependency: its absence must fail, not skip

    (project / "pkg" / "broken.py").write_text("def f(:\n")
    result = memlint("--format", "sarif", "pkg", cwd=project)
    document = json.loads(result.stdout)
    jsonschema.validate(document, json.loads(sarif_schema.read_text(encoding="utf-8")))
    run = document["runs"][0]
    ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert "MEM404" in ids and "MEM001" in ids
    assert sorted(r["ruleId"] for r in run["results"]) == ["MEM001", "MEM404"]
    for result_ in run["results"]:
        assert run["tool"]["driver"]["rules"][result_["ruleIndex"]]["id"] == result_["ruleId"]


def test_github_format(project: Path) -> None:
    result = memlint("--format", "github", "pkg", cwd=project)
    assert result.stdout.startswith("::warning file=pkg/leaky.py,line=3,col=1,")
    assert "title=MEM404 raised-recursion-limit::MEM404 " in result.stdout


def test_output_file(project: Path) -> None:
    result = memlint("--format", "json", "--output", "report.json", "pkg", cwd=project)
    assert result.returncode == 1 and result.stdout == ""
    assert json.loads((project / "report.json").read_text())["summary"]["findings"] == 1
    assert [p.name for p in project.iterdir() if p.name.startswith(".report")] == []


def test_select_and_ignore(project: Path) -> None:
    assert memlint("--ignore", "MEM404", "pkg", cwd=project).returncode == 0
    assert memlint("--ignore", "MEM4", "pkg", cwd=project).returncode == 0
    assert memlint("--select", "MEM001", "pkg", cwd=project).returncode == 0
    assert memlint("--select", "MEM4", "pkg", cwd=project).returncode == 1
    assert memlint("--select", "MEM", "--ignore", "MEM404", "pkg", cwd=project).returncode == 0


def test_unknown_code_is_usage_error(project: Path) -> None:
    result = memlint("--select", "XYZ9", "pkg", cwd=project)
    assert result.returncode == 2
    assert "unknown rule code or prefix 'XYZ9'" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_path_is_error_but_others_run(project: Path) -> None:
    result = memlint("nope.py", "pkg", cwd=project)
    assert result.returncode == 2
    assert "nope.py: no such file or directory" in result.stderr
    assert "pkg/leaky.py:3:1: MEM404" in result.stdout


def test_syntax_error_is_mem001_and_run_continues(project: Path) -> None:
    (project / "pkg" / "broken.py").write_text("x = (\n")
    result = memlint("pkg", cwd=project)
    assert result.returncode == 1
    assert "pkg/broken.py:" in result.stdout and "MEM001 syntax error" in result.stdout
    assert "pkg/leaky.py:3:1: MEM404" in result.stdout


def test_noqa_and_skip_file(project: Path) -> None:
    (project / "pkg" / "leaky.py").write_text("import sys\nsys.setrecursionlimit(10**6)  # noqa: MEM404\n")
    (project / "pkg" / "other.py").write_text("import sys\nsys.setrecursionlimit(10**6)  # noqa\n")
    (project / "pkg" / "skipped.py").write_text("# memlint: skip-file\nimport sys\nsys.setrecursionlimit(10**6)\n")
    (project / "pkg" / "wrong.py").write_text("import sys\nsys.setrecursionlimit(10**6)  # noqa: MEM201\n")
    result = memlint("pkg", cwd=project)
    assert [line.split(":")[0] for line in result.stdout.splitlines() if "MEM404" in line and line.startswith("pkg")] == ["pkg/wrong.py"]


def test_pyproject_config(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.memlint]\nrecursion-limit = 2000000\nper-file-ignores = { "pkg/other.py" = ["MEM4"] }\n'
    )
    (project / "pkg" / "other.py").write_text("import sys\nsys.setrecursionlimit(10**7)\n")
    result = memlint("pkg", cwd=project)
    assert result.returncode == 0, result.stdout
    # CLI flags override the config file.
    assert memlint("--select", "MEM001", "pkg", cwd=project).returncode == 0


def test_config_exclude(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.memlint]\nextend-exclude = ["leaky.py"]\n')
    assert memlint(".", cwd=project).returncode == 0
    # A file named on the command line is always checked.
    assert memlint("pkg/leaky.py", cwd=project).returncode == 1


def test_gitignore_is_respected(project: Path) -> None:
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("leaky.py\n")
    assert memlint(".", cwd=project).returncode == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[tool.memlint]\nselekt = ["MEM4"]\n', "tool.memlint.selekt: unknown key"),
        ('[tool.memlint]\nselect = ["MEM999"]\n', "tool.memlint.select: unknown rule code 'MEM999'"),
        ('[tool.memlint]\nselect = "MEM4"\n', "tool.memlint.select: expected a list of strings"),
        ('[tool.memlint]\nrecursion-limit = "lots"\n', "recursion-limit: expected an integer"),
        ("[tool.memlint\nselect = []\n", "invalid TOML"),
    ],
)
def test_bad_config_is_one_line_exit_two(project: Path, content: str, expected: str) -> None:
    (project / "pyproject.toml").write_text(content)
    result = memlint("pkg", cwd=project)
    assert result.returncode == 2
    assert expected in result.stderr and "pyproject.toml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_rules_and_rule_commands(project: Path) -> None:
    listing = memlint("rules", cwd=project)
    assert listing.returncode == 0
    assert "MEM404  raised-recursion-limit" in listing.stdout
    doc = memlint("rule", "mem404", cwd=project)
    assert doc.returncode == 0 and doc.stdout.startswith("# MEM404 raised-recursion-limit")
    assert "## Use instead" in doc.stdout
    assert memlint("rule", "MEM999", cwd=project).returncode == 2


def test_statistics_and_version(project: Path) -> None:
    stats = memlint("--statistics", "pkg", cwd=project)
    assert "1     MEM404 raised-recursion-limit" in stats.stdout
    version = memlint("--version", cwd=project)
    assert version.returncode == 0 and version.stdout.startswith("memlint ")


def test_jobs_give_same_output(project: Path) -> None:
    for i in range(12):
        (project / "pkg" / f"m{i}.py").write_text(LEAKY if i % 2 else CLEAN)
    one = memlint("-j1", "--format", "json", "pkg", cwd=project)
    two = memlint("-j2", "--format", "json", "pkg", cwd=project)
    assert json.loads(one.stdout) == json.loads(two.stdout)
