"""Adoption flags: baselines (fingerprints survive line shifts; only new findings are reported) and --force-exclude."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memlint.baseline import fingerprints, normalise_line
from memlint.cli import main
from memlint.testing import lint_text

LEAK = "sys.setrecursionlimit(10**6)"


def _run(*args: str) -> int:
    return main(["--jobs", "1", "--no-cache", *args])


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.memlint]\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "worker.py").write_text(f"import sys\n\n{LEAK}\n\n\ndef run():\n    {LEAK}\n")
    return tmp_path


def _findings(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[tuple[int, str]]]:
    capsys.readouterr()
    status = _run("--format", "json", *args)
    document = json.loads(capsys.readouterr().out)
    return status, [(f["line"], f["code"]) for f in document["findings"]]


def test_normalise_line_ignores_layout_and_comments() -> None:
    assert normalise_line("    x = open( p )  # TODO") == normalise_line("x = open(p)")
    assert normalise_line("x = open(p)") != normalise_line("y = open(p)")
    assert normalise_line('  """unterminated') == '"""unterminated'  # inside a string: whitespace only


def test_fingerprints_survive_shifts_and_count_occurrences() -> None:
    before = f"import sys\n{LEAK}\n{LEAK}\n"
    after = f"import sys\n\n# a comment\n\n{LEAK}\n    \n{LEAK}  # noted\n"
    old = fingerprints(lint_text(before), "a.py", before.splitlines())
    new = fingerprints(lint_text(after), "a.py", after.splitlines())
    assert len(old) == 2 and len(set(old)) == 2  # equal lines told apart by occurrence
    assert old == new
    assert fingerprints(lint_text(before), "b.py", before.splitlines()) != old  # the path counts


def test_write_then_only_new_findings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("--write-baseline", "baseline.json") == 0  # the debt is accepted
    document = json.loads((project / "baseline.json").read_text())
    assert document["memlint-baseline"] == 1
    assert [(e["path"], e["line"]) for e in document["findings"]] == [("pkg/worker.py", 3), ("pkg/worker.py", 7)]
    assert [p.name for p in project.iterdir() if p.name.startswith(".baseline")] == []  # no temp file left

    assert _findings(capsys, "--baseline", "baseline.json") == (0, [])

    # Unrelated edits shift every line: still nothing new.
    worker = project / "pkg" / "worker.py"
    worker.write_text('"""Worker."""\nimport sys\n\nCONSTANT = 1\n\n' + worker.read_text().split("\n", 1)[1])
    assert _findings(capsys, "--baseline", "baseline.json") == (0, [])

    # A new finding is reported, the old ones are not.
    worker.write_text(worker.read_text() + "\n\ndef again():\n    sys.setrecursionlimit(10**7)\n")
    status, found = _findings(capsys, "--baseline", "baseline.json")
    assert status == 1 and [code for _, code in found] == ["MEM404"]
    assert found[0][0] == len(worker.read_text().splitlines())


def test_fixed_findings_leave_the_count(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    worker = project / "pkg" / "worker.py"
    worker.write_text(f"import sys\n{LEAK}\n{LEAK}\n")
    _run("--write-baseline", "baseline.json")
    worker.write_text(f"import sys\n{LEAK}\n")  # one fixed
    capsys.readouterr()
    assert _run("--baseline", "baseline.json") == 0
    assert "1 baselined finding(s) no longer occur" in capsys.readouterr().err
    # The fixed one does not cover a new copy of the same line later on.
    worker.write_text(f"import sys\n{LEAK}\n{LEAK}\n{LEAK}\n")
    status, found = _findings(capsys, "--baseline", "baseline.json")
    assert status == 1 and len(found) == 1


def test_baseline_paths_are_relative_to_the_project_root(project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _run("--write-baseline", "baseline.json")
    monkeypatch.chdir(project / "pkg")  # config root is still the project
    assert _findings(capsys, "--baseline", "../baseline.json", ".") == (0, [])


@pytest.mark.parametrize("content, message", [
    ("{", "not valid JSON"),
    ("[]", "not a memlint baseline"),
    ('{"memlint-baseline": 9, "findings": []}', "unsupported version 9"),
    ('{"memlint-baseline": 1, "findings": [{"path": 1}]}', "findings[0]"),
    (None, "cannot read"),
])
def test_malformed_baseline_is_one_line_exit_2(project: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str) -> None:
    if content is not None:
        (project / "baseline.json").write_text(content)
    capsys.readouterr()
    assert _run("--baseline", "baseline.json") == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_unwritable_baseline_is_one_line_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert _run("--write-baseline", "missing-dir/baseline.json") == 2
    err = capsys.readouterr().err
    assert "cannot write baseline" in err and err.count("\n") == 1


def test_force_exclude_applies_config_exclusions_to_named_files(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """(For the pre-commit hook, which names every staged file.)"""
    (project / "pyproject.toml").write_text('[tool.memlint]\nextend-exclude = ["pkg"]\n')
    assert _findings(capsys, "pkg/worker.py")[0] == 1  # named files are checked...
    assert _findings(capsys, "--force-exclude", "pkg/worker.py") == (0, [])  # ...unless forced
