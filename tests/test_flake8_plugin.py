"""The flake8 plugin, run through the real flake8: parity with the CLI, and
flake8's own select/ignore/noqa/config governing it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from memlint.flake8_plugin import MemlintChecker
from memlint.registry import all_rules

# Each test starts the real flake8: slow, so left out of a plain `pytest` (CI runs them).
pytestmark = pytest.mark.slow

pytest.importorskip("flake8")

ROOT = Path(__file__).resolve().parent.parent
FLAKE8_FORMAT = "%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s"
LEAK = "import sys\n\nsys.setrecursionlimit(10**6)\n"  # MEM404, a default rule with an option
# A file CPython's parser accepts and libcst 1.9 rejects. The comment holds
# every rule's trigger words so the engine does parse it with libcst.
LIBCST_ONLY_ERROR = "x = 0\n(x): int = 1\n# " + " ".join(w for r in all_rules() for w in r.triggers) + "\n"

Finding = tuple[str, int, int, str, str]


def flake8(*args: str, cwd: Path) -> tuple[list[Finding], subprocess.CompletedProcess[str]]:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", f"--format={FLAKE8_FORMAT}", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr + proc.stdout
    found: list[Finding] = []  # a list: a duplicate report must show
    for line in proc.stdout.splitlines():
        if line.count("\t") != 4:
            continue  # flake8's own messages
        path, row, col, code, text = line.split("\t")
        found.append((str(Path(cwd, path).resolve()), int(row), int(col), code, text))
    return found, proc


def memlint_cli(*args: str, cwd: Path) -> list[Finding]:
    proc = subprocess.run(
        [sys.executable, "-m", "memlint", "--format", "json", "--no-cache", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stderr
    document = json.loads(proc.stdout)
    return [
        (str(Path(cwd, f["path"]).resolve()), f["line"], f["column"], f["code"], f["message"])
        for f in document["findings"]
    ]


def codes(found: list[Finding]) -> set[str]:
    return {f[3] for f in found}


@pytest.mark.parametrize("selection", [("--select", "MEM"), ()], ids=["all-rules", "defaults"])
def test_parity_with_cli(tmp_path: Path, selection: tuple[str, ...]) -> None:
    """Same engine, same rules, messages and positions: flake8's MEM findings
    equal the CLI's on every fixture (plus noqa and libcst-only syntax cases),
    with every rule selected and with the default selection (opt-in rules off)."""
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "libcst_only.py").write_text(LIBCST_ONLY_ERROR)
    (extra / "noqa.py").write_text(LEAK + "sys.setrecursionlimit(10**7)  # noqa: MEM404\nsys.setrecursionlimit(10**8)  # noqa\n")
    files = sorted(str(p) for p in (ROOT / "fixtures").rglob("*.py"))
    files += sorted(str(p) for p in (ROOT / "examples").rglob("*.py"))
    files += sorted(str(p) for p in extra.glob("*.py"))
    cwd = tmp_path / "cwd"  # no config files above it: defaults on both sides
    cwd.mkdir()

    via_flake8, _ = flake8(*(selection and ("--select", "MEM,E9")), *files, cwd=cwd)
    via_flake8 = [f for f in via_flake8 if f[3].startswith(("MEM", "E9"))]
    via_cli = memlint_cli(*selection, *files, cwd=cwd)

    # Where CPython itself cannot parse or read a file, flake8 reports E9xx
    # and runs no plugin; the CLI reports MEM001 there instead.
    unparsable = {f[0] for f in via_flake8 if f[3].startswith("E9")}
    assert unparsable <= {f[0] for f in via_cli if f[3] == "MEM001"}
    # Sorted lists, not sets: the same findings the same number of times
    # (each tool orders its output its own way).
    via_flake8 = sorted(f for f in via_flake8 if f[0] not in unparsable)
    via_cli = sorted(f for f in via_cli if f[0] not in unparsable)
    assert via_flake8 == via_cli
    assert "MEM001" in codes(via_cli) and "MEM404" in codes(via_cli)
    print(f"\nparity ({' '.join(selection) or 'defaults'}): {len(files) - len(unparsable)} files, {len(via_cli)} findings compared")


def test_libcst_only_syntax_error_is_one_mem001(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text(LIBCST_ONLY_ERROR)
    found, proc = flake8("t.py", cwd=tmp_path)
    mem = [f for f in found if f[3].startswith("MEM")]
    assert [f[3] for f in mem] == ["MEM001"], proc.stdout


def test_default_run_and_flake8_select_ignore(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text(LEAK)
    assert codes(flake8("t.py", cwd=tmp_path)[0]) >= {"MEM404"}
    assert codes(flake8("--select", "MEM4", "t.py", cwd=tmp_path)[0]) == {"MEM404"}
    assert codes(flake8("--select", "MEM", "--ignore", "MEM404", "t.py", cwd=tmp_path)[0]) == set()
    assert "MEM404" not in codes(flake8("--extend-ignore", "MEM4", "t.py", cwd=tmp_path)[0])
    assert codes(flake8("--select", "MEM", "--per-file-ignores", "t.py:MEM404", "t.py", cwd=tmp_path)[0]) == set()


def test_noqa_is_flake8s(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text(
        "import sys\n"
        "sys.setrecursionlimit(10**6)  # noqa: MEM404\n"
        "sys.setrecursionlimit(10**7)  # noqa:MEM4\n"
        "sys.setrecursionlimit(10**8)  # noqa: E501\n"
        "sys.setrecursionlimit(10**9)  # noqa\n"
    )
    found, _ = flake8("--select", "MEM", "t.py", cwd=tmp_path)
    assert [(f[1], f[3]) for f in found] == [(4, "MEM404")]
    # --disable-noqa is flake8's too: the plugin itself never filters.
    found, _ = flake8("--select", "MEM", "--disable-noqa", "t.py", cwd=tmp_path)
    assert [f[1] for f in found] == [2, 3, 4, 5]


OPT_IN = [rule for rule in all_rules() if not rule.default]


@pytest.mark.parametrize("rule", OPT_IN, ids=[r.code for r in OPT_IN])
def test_opt_in_rules_need_selecting(rule: type, tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text(rule.examples()[0][0])
    assert rule.code not in codes(flake8("t.py", cwd=tmp_path)[0])
    assert rule.code in codes(flake8("--extend-select", rule.code, "t.py", cwd=tmp_path)[0])
    assert rule.code in codes(flake8("--select", "MEM", "t.py", cwd=tmp_path)[0])


def test_add_options_registers_flags_and_default_ignore() -> None:
    class Manager:
        def __init__(self) -> None:
            self.flags: list[str] = []
            self.ignored: list[str] = []

        def add_option(self, flag: str, **kwargs: object) -> None:
            assert kwargs["parse_from_config"] is True
            self.flags.append(flag)

        def extend_default_ignore(self, codes: list[str]) -> None:
            self.ignored.extend(codes)

    manager = Manager()
    MemlintChecker.add_options(manager)
    assert "--memlint-recursion-limit" in manager.flags
    assert set(manager.ignored) == {rule.code for rule in OPT_IN}


@pytest.mark.parametrize("config_name, section", [("setup.cfg", "flake8"), ("tox.ini", "flake8"), (".flake8", "flake8")])
def test_rule_options_from_flake8_config(tmp_path: Path, config_name: str, section: str) -> None:
    (tmp_path / "t.py").write_text(LEAK)
    assert "MEM404" in codes(flake8("--select", "MEM", "t.py", cwd=tmp_path)[0])
    (tmp_path / config_name).write_text(f"[{section}]\nmemlint-recursion-limit = 2000000\n")
    assert "MEM404" not in codes(flake8("--select", "MEM", "t.py", cwd=tmp_path)[0])


def test_rule_options_from_command_line_and_pyproject(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text(LEAK)
    assert "MEM404" not in codes(flake8("--select", "MEM", "--memlint-recursion-limit", "2000000", "t.py", cwd=tmp_path)[0])
    (tmp_path / "pyproject.toml").write_text("[tool.memlint]\nrecursion-limit = 2000000\n")
    assert "MEM404" not in codes(flake8("--select", "MEM", "t.py", cwd=tmp_path)[0])
    # flake8's own option wins over [tool.memlint].
    assert "MEM404" in codes(flake8("--select", "MEM", "--memlint-recursion-limit", "100", "t.py", cwd=tmp_path)[0])


def test_bad_option_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text(LEAK)
    _, proc = flake8("--memlint-recursion-limit", "lots", "t.py", cwd=tmp_path)
    assert proc.returncode != 0
    assert "--memlint-recursion-limit: expected an integer, got 'lots'" in proc.stdout + proc.stderr
