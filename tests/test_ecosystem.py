"""The pure logic of scripts/ecosystem.py, on small made-up data: no network, no installs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "ecosystem.py"
_spec = importlib.util.spec_from_file_location("ecosystem", SCRIPT)
assert _spec is not None and _spec.loader is not None
eco = importlib.util.module_from_spec(_spec)
sys.modules["ecosystem"] = eco  # dataclasses look their module up by name
_spec.loader.exec_module(eco)

PACKAGES = """
[sets]
tuning = ["oldlib==1.0"]
test = [
  "freshapp==2.3.1",  # a comment
  "otherapp==0.9",
]
"""

HEADER = "package\tversion\tpath\tline\tcode\tverdict\treason\n"
VERDICTS = HEADER + (
    "# a comment line\n"
    "freshapp\t2.3.1\tfreshapp/server.py\t10\tMEM201\tright\tfile opened per request, never closed\n"
    "freshapp\t2.3.1\tfreshapp/server.py\t20\tMEM201\twrong\tclosed by the caller\n"
    "freshapp\t2.3.1\tfreshapp/cache.py\t5\tMEM101\tright\tper-user keys, never evicted\n"
    "freshapp\t2.3.1\tfreshapp/gone.py\t7\tMEM303\tright\ttask dropped\n"
    "freshapp\t2.3.1\tfreshapp/fixed.py\t8\tMEM301\twrong\tdaemon stops on close\n"
    "oldlib\t1.0\toldlib/a.py\t3\tMEM401\tright\treadlines iterated\n"
)


def finding(path: str, line: int, code: str, package: str = "freshapp", version: str = "2.3.1") -> Any:
    return eco.Finding(package, version, path, line, code, "msg")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_packages_keeps_sets_and_pins() -> None:
    packages = eco.parse_packages(PACKAGES)
    assert [(p.name, p.version, p.set) for p in packages] == [
        ("oldlib", "1.0", "tuning"),
        ("freshapp", "2.3.1", "test"),
        ("otherapp", "0.9", "test"),
    ]
    assert packages[1].slug == "freshapp-2.3.1"


@pytest.mark.parametrize(
    "text, message",
    [
        ('[sets]\ntest = ["unpinned"]\n', "not pinned"),
        ('[sets]\ntest = ["x>=1"]\n', "not pinned"),
        ('[sets]\nother = ["x==1"]\n', "unknown set"),
        ('[sets]\ntest = ["x==1"]\ntuning = ["X==2"]\n', "listed twice"),
        ("[packages]\n", r"missing \[sets\]"),
    ],
)
def test_parse_packages_rejects_bad_files(text: str, message: str) -> None:
    with pytest.raises(eco.EcosystemError, match=message):
        eco.parse_packages(text)


def test_parse_verdicts_reads_rows_and_skips_comments() -> None:
    verdicts = eco.parse_verdicts(VERDICTS.splitlines(keepends=True))
    assert len(verdicts) == 6
    first = verdicts[0]
    assert first.key == ("freshapp", "2.3.1", "freshapp/server.py", 10, "MEM201")
    assert first.verdict == "right"
    assert first.reason == "file opened per request, never closed"


@pytest.mark.parametrize(
    "row, message",
    [
        ("p\t1\ta.py\t3\tMEM201\tmaybe\twhy\n", "right or wrong"),
        ("p\t1\ta.py\tx\tMEM201\tright\twhy\n", "not a number"),
        ("p\t1\ta.py\t3\tMEM201\tright\n", "columns"),
        ("p\t1\ta.py\t3\tMEM201\tright\twhy\np\t1\ta.py\t3\tMEM201\twrong\tno\n", "duplicate"),
    ],
)
def test_parse_verdicts_rejects_bad_rows(row: str, message: str) -> None:
    with pytest.raises(eco.EcosystemError, match=message):
        eco.parse_verdicts((HEADER + row).splitlines(keepends=True))


def test_parse_verdicts_requires_header() -> None:
    with pytest.raises(eco.EcosystemError, match="header"):
        eco.parse_verdicts(["p\t1\ta.py\t3\tMEM201\tright\twhy\n"])


def test_format_verdict_round_trips_and_flattens_whitespace() -> None:
    item = eco.Verdict("p", "1", "p/a.py", 3, "MEM201", "wrong", "closed\tby\n the caller")
    line = eco.format_verdict(item)
    assert line.count("\t") == 6
    [back] = eco.parse_verdicts([HEADER, line + "\n"])
    assert back.reason == "closed by the caller"
    assert back.key == item.key


def comparison_fixture() -> tuple[list[Any], Any]:
    packages = eco.parse_packages(PACKAGES)
    verdicts = eco.parse_verdicts(VERDICTS.splitlines(keepends=True))
    fresh = packages[1]
    runs = {
        fresh: (
            [
                finding("freshapp/server.py", 10, "MEM201"),
                finding("freshapp/server.py", 10, "MEM201"),  # same key twice: one finding
                finding("freshapp/server.py", 20, "MEM201"),
                finding("freshapp/cache.py", 5, "MEM101"),
                finding("freshapp/new.py", 1, "MEM202"),
            ],
            None,
        )
    }
    return packages, eco.compare(runs, verdicts)


def test_compare_matches_new_and_lost() -> None:
    _packages, result = comparison_fixture()
    assert sorted((f.path, f.line, v.verdict) for f, v in result.judged) == [
        ("freshapp/cache.py", 5, "right"),
        ("freshapp/server.py", 10, "right"),
        ("freshapp/server.py", 20, "wrong"),
    ]
    assert [(f.path, f.code) for f in result.new] == [("freshapp/new.py", "MEM202")]
    assert [v.path for v in result.lost_right] == ["freshapp/gone.py"]
    assert [v.path for v in result.lost_wrong] == ["freshapp/fixed.py"]
    # oldlib was not run: its verdict is neither matched nor lost.
    assert all(v.package != "oldlib" for v in result.lost_right + result.lost_wrong)
    assert eco.exit_status(result) == 1


def test_match_needs_same_version_line_and_code() -> None:
    verdicts = eco.parse_verdicts([HEADER, "a\t1\ta/x.py\t3\tMEM201\tright\tr\n"])
    package = eco.Package("a", "1", "test")
    for other in (finding("a/x.py", 4, "MEM201", "a", "1"), finding("a/x.py", 3, "MEM202", "a", "1")):
        result = eco.compare({package: ([other], None)}, verdicts)
        assert result.judged == [] and len(result.new) == 1 and len(result.lost_right) == 1
    # Another version of the package is another package as far as verdicts go.
    newer = eco.Package("a", "2", "test")
    result = eco.compare({newer: ([finding("a/x.py", 3, "MEM201", "a", "2")], None)}, verdicts)
    assert result.judged == [] and result.lost_right == []


def test_lost_ignores_rules_the_run_did_not_select() -> None:
    verdicts = eco.parse_verdicts([HEADER, "a\t1\ta/x.py\t3\tMEM201\tright\tr\n"])
    package = eco.Package("a", "1", "test")
    assert eco.compare({package: ([], ["MEM3"])}, verdicts).lost_right == []
    assert len(eco.compare({package: ([], ["MEM2"])}, verdicts).lost_right) == 1


def test_exit_status_zero_when_only_wrong_ones_are_lost() -> None:
    verdicts = eco.parse_verdicts([HEADER, "a\t1\ta/x.py\t3\tMEM201\twrong\tr\n"])
    package = eco.Package("a", "1", "test")
    result = eco.compare({package: ([finding("a/new.py", 1, "MEM201", "a", "1")], None)}, verdicts)
    assert len(result.lost_wrong) == 1 and len(result.new) == 1
    assert eco.exit_status(result) == 0


def test_precision_per_rule_counts_only_judged_findings() -> None:
    findings = [
        finding("a.py", 1, "MEM201"),
        finding("a.py", 2, "MEM201"),
        finding("a.py", 3, "MEM201"),
        finding("a.py", 4, "MEM201"),  # unread
        finding("b.py", 1, "MEM303"),  # unread
    ]
    right = eco.Verdict("freshapp", "2.3.1", "a.py", 1, "MEM201", "right", "")
    wrong = eco.Verdict("freshapp", "2.3.1", "a.py", 2, "MEM201", "wrong", "")
    judged = [(findings[0], right), (findings[2], right), (findings[1], wrong)]
    counts = eco.per_rule(findings, judged)
    assert counts["MEM201"] == eco.RuleCount(4, 2, 1)
    assert counts["MEM201"].precision == pytest.approx(2 / 3)
    assert counts["MEM303"].precision is None
    assert counts["all"] == eco.RuleCount(5, 2, 1)
    assert eco.format_precision(counts["MEM303"].precision) == "-"
    assert eco.format_precision(counts["MEM201"].precision) == "67%"


def test_report_lines_per_set_and_lists(tmp_path: Path) -> None:
    packages, _result = comparison_fixture()
    verdicts = eco.parse_verdicts(VERDICTS.splitlines(keepends=True))
    fresh = packages[1]
    runs = {fresh: ([finding("freshapp/server.py", 10, "MEM201"), finding("freshapp/new.py", 1, "MEM202")], None)}
    lines, result = eco.report_lines(packages, runs, verdicts, ("test",))
    text = "\n".join(lines)
    assert "| MEM201 | 1 | 1 | 0 | 0 | 100% |" in text
    assert "new, to be read: 1" in text
    assert "lost right findings (regressions): 2" in text  # cache.py MEM101 and gone.py MEM303
    assert "not run (install and run first): otherapp-0.9" in text
    assert "oldlib" not in text  # tuning set not chosen
    assert eco.exit_status(result) == 1


def test_main_report_reads_stored_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    packages_file = write(tmp_path, "packages.toml", PACKAGES)
    verdicts_file = write(tmp_path, "verdicts.tsv", VERDICTS)
    cache = tmp_path / "cache"
    stored = {
        "select": None,
        "report": {"findings": [
            {"path": "freshapp/server.py", "line": 10, "code": "MEM201", "message": "m"},
            {"path": "freshapp/server.py", "line": 20, "code": "MEM201", "message": "m"},
            {"path": "freshapp/cache.py", "line": 5, "code": "MEM101", "message": "m"},
            {"path": "freshapp/gone.py", "line": 7, "code": "MEM303", "message": "m"},
            {"path": "freshapp/new.py", "line": 2, "code": "MEM401", "message": "m"},
        ]},
    }
    (cache / "freshapp-2.3.1").mkdir(parents=True)
    (cache / "freshapp-2.3.1" / eco.FINDINGS_NAME).write_text(json.dumps(stored), encoding="utf-8")
    new_file = tmp_path / "new.tsv"
    argv = ["report", "--packages-file", str(packages_file), "--verdicts", str(verdicts_file), "--cache", str(cache),
            "--set", "test", "--write-new", str(new_file)]
    assert eco.main(argv) == 0  # nothing right was lost (fixed.py's wrong one is progress)
    out = capsys.readouterr().out
    assert "| MEM201 | 2 | 1 | 1 | 0 | 50% |" in out
    assert "lost wrong findings (progress): 1" in out
    assert new_file.read_text(encoding="utf-8").startswith("freshapp\t2.3.1\tfreshapp/new.py\t2\tMEM401\t?")
    # Drop the right MEM303 finding: the report must now fail.
    stored["report"]["findings"] = stored["report"]["findings"][:3]  # type: ignore[index]
    (cache / "freshapp-2.3.1" / eco.FINDINGS_NAME).write_text(json.dumps(stored), encoding="utf-8")
    assert eco.main(argv[:-2]) == 1
    assert "freshapp/gone.py:7 MEM303" in capsys.readouterr().out


def test_main_rejects_malformed_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    packages_file = write(tmp_path, "packages.toml", PACKAGES)
    verdicts_file = write(tmp_path, "verdicts.tsv", HEADER + "p\t1\ta.py\t3\tMEM201\tperhaps\tr\n")
    argv = ["report", "--packages-file", str(packages_file), "--verdicts", str(verdicts_file), "--cache", str(tmp_path)]
    assert eco.main(argv) == 2
    assert "right or wrong" in capsys.readouterr().err


def test_source_dirs_from_record_skip_bin_and_metadata(tmp_path: Path) -> None:
    root = tmp_path / "pkg-1.0"
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "sub" / "a.py").write_text("x = 1\n")
    (root / "pkg" / "b.py").write_text("x = 1\n")
    (root / "single.py").write_text("x = 1\n")
    (root / "bin").mkdir()
    (root / "bin" / "tool").write_text("#!python\n")
    info = root / "pkg-1.0.dist-info"
    info.mkdir()
    (info / "RECORD").write_text("pkg/sub/a.py,sha256=x,1\npkg/b.py,,\nsingle.py,,\n../../bin/tool,,\npkg-1.0.dist-info/RECORD,,\n")
    assert eco.source_dirs(root) == ["pkg", "single.py"]
    assert eco.count_py_files(root, ["pkg", "single.py"]) == 3
    (info / "RECORD").unlink()  # no RECORD: fall back to entries holding Python code
    assert eco.source_dirs(root) == ["pkg", "single.py"]


def test_choose_by_set_and_name() -> None:
    packages = eco.parse_packages(PACKAGES)
    assert [p.name for p in eco.choose(packages, "test", None)] == ["freshapp", "otherapp"]
    assert [p.name for p in eco.choose(packages, "all", ["OLDLIB"])] == ["oldlib"]
