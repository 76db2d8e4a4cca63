"""CI outputs: SARIF for code scanning (schema-valid, stable fingerprints,
rule help) and GitHub workflow-command annotations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memlint.cli import main
from memlint.registry import all_rules

LEAKS = "import sys\n\nsys.setrecursionlimit(10**6)\nsys.setrecursionlimit(\n    10**7,\n)\n"


def _sarif(capsys: pytest.CaptureFixture[str], *paths: str) -> dict:
    capsys.readouterr()
    main(["--jobs", "1", "--no-cache", "--format", "sarif", *paths])
    return json.loads(capsys.readouterr().out)


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(LEAKS)
    (tmp_path / "src" / "broken.py").write_text("def f(:\n    pass\n")
    return tmp_path


def test_sarif_validates_against_the_schema(
    project: Path, capsys: pytest.CaptureFixture[str], sarif_schema: Path
) -> None:
    import jsonschema  # a test dependency: its absence must fail, not skip

    document = _sarif(capsys, "src", "missing.py")
    jsonschema.validate(document, json.loads(sarif_schema.read_text(encoding="utf-8")))
    # In report order (path, line): app.py's two MEM404, then broken.py's MEM001.
    assert [r["ruleId"] for r in document["runs"][0]["results"]] == ["MEM404", "MEM404", "MEM001"]


def test_sarif_is_fit_for_code_scanning(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _sarif(capsys, "src")["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    for rule in all_rules():
        descriptor = rules[rule.code]
        assert descriptor["help"]["markdown"].startswith(f"# {rule.code} {rule.name}")
        assert descriptor["shortDescription"]["text"] != rule.message  # a summary, not the message template
        assert "security-severity" not in descriptor["properties"]  # reliability, not security
    for result in run["results"]:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] in ("src/app.py", "src/broken.py")  # relative to the checkout
        assert result["partialFingerprints"]["memlint/v1"]
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_fingerprints_survive_unrelated_edits(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def prints() -> list[str]:
        results = _sarif(capsys, "src/app.py")["runs"][0]["results"]
        return [r["partialFingerprints"]["memlint/v1"] for r in results]

    before = prints()
    assert len(before) == len(set(before)) == 2
    (project / "src" / "app.py").write_text('"""App."""\n\n' + LEAKS.replace("10**6)", "10**6)  # legacy"))
    assert prints() == before


def test_github_annotations(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--jobs", "1", "--no-cache", "--format", "github", "src"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "::warning file=src/app.py,line=3,col=1,endColumn=29,title=MEM404 raised-recursion-limit::MEM404 `sys" in "\n".join(lines)
    # Spanning lines: GitHub takes no columns then.
    assert any(line.startswith("::warning file=src/app.py,line=4,endLine=6,title=MEM404") for line in lines)
    assert any(line.startswith("::error file=src/broken.py,line=") and "MEM001" in line for line in lines)
