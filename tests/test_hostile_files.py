"""Hostile file contents: each is analysed or reported as MEM001/MEM002 with a
clear reason, never an exception, a RecursionError or a dead process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from memlint.diagnostic import Diagnostic
from memlint.engine import lint_source
from memlint.testing import lint_text, settings_for
from memlint.workers import Pool

# Makes MEM404 able to fire, so the file is parsed and walked by libcst and
# not only screened by CPython's parser.
FIRES = "import sys\nsys.setrecursionlimit(10**9)\n"


def codes(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.code for d in diagnostics]


def only(diagnostics: list[Diagnostic], code: str) -> Diagnostic:
    assert codes(diagnostics) == [code], diagnostics
    return diagnostics[0]


def lint_bytes(data: bytes) -> list[Diagnostic]:
    return lint_source(data, "hostile.py", settings_for(("MEM",)))


@pytest.mark.parametrize("brackets", ["()", "[]", "{}"])
def test_thousand_nested_brackets_is_mem001_without_libcst(brackets: str) -> None:
    # libcst's parser takes ~9 s and 800 MB on 1,000 nested `[`, and
    # overflows an 8 MB stack on 1,500 `(`: CPython's limit (200) answers first.
    opening, closing = brackets
    diagnostic = only(lint_text("x = " + opening * 1000 + "1" + closing * 1000 + "\n" + FIRES), "MEM001")
    assert "beyond CPython's parser limits: too many nested parentheses" in diagnostic.message


@pytest.mark.parametrize("brackets", ["()", "[]", "{}"])
def test_brackets_nested_to_cpython_limit_are_analysed(brackets: str) -> None:
    opening, closing = brackets
    assert codes(lint_text("x = " + opening * 199 + "1" + closing * 199 + "\n" + FIRES)) == ["MEM404"]


def test_fifty_thousand_term_expression_is_mem001_quickly() -> None:
    # libcst's parser is superlinear on operator chains (2,000 terms: 2 s;
    # 50,000 would take hours); CPython refuses the depth at once.
    diagnostic = only(lint_text("x = " + " + ".join(["a"] * 50_000) + "\n" + FIRES), "MEM001")
    assert "beyond CPython's parser limits" in diagnostic.message
    assert "RecursionError" in diagnostic.message


def test_long_flat_sequences_are_analysed() -> None:
    # Flat sequences are linear in both parsers.
    assert codes(lint_text("x = [" + ", ".join(["a"] * 5_000) + "]\n" + FIRES)) == ["MEM404"]


def test_deepest_expression_cpython_accepts_is_analysed() -> None:
    # ~2,900 nested unary operators: deeper than the main thread's stack
    # allows for libcst's visitor; the analysis thread's stack copes.
    assert codes(lint_text("x = " + "-" * 2_900 + "1\n" + FIRES)) == ["MEM404"]


def test_two_hundred_nested_functions_is_mem001() -> None:
    source = "".join(" " * level + f"def f{level}():\n" for level in range(200)) + " " * 200 + "pass\n"
    diagnostic = only(lint_text(source + FIRES), "MEM001")
    assert "beyond CPython's parser limits: too many levels of indentation" in diagnostic.message


def test_ninety_nine_nested_functions_are_analysed() -> None:
    source = "".join(" " * level + f"def f{level}():\n" for level in range(99)) + " " * 99 + FIRES.replace("\n", "\n" + " " * 99)
    assert codes(lint_text(source)) == ["MEM404"]


def test_nul_bytes_only() -> None:
    diagnostic = only(lint_bytes(b"\0" * 10_000), "MEM001")
    assert "NUL byte" in diagnostic.message


def test_nul_byte_line_counts_python_line_breaks() -> None:
    assert only(lint_bytes(b"x = 1\ry = 2\r\nz\0\n"), "MEM001").line == 3


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"# -*- coding: utf-8 -*-\nx = '\xe9'\n", "can't decode byte 0xe9"),
        (b"# coding: nonexistent\nx = 1\n", "unknown encoding: nonexistent"),
        (b"# coding: undefined\nx = 1\n", "cannot decode file"),
        (b"# coding: rot13\nx = 1\n", "cannot decode file"),
        (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", "encoding problem"),
    ],
)
def test_wrong_coding_cookie_is_mem001(data: bytes, reason: str) -> None:
    diagnostic = only(lint_bytes(data), "MEM001")
    assert reason in diagnostic.message


def test_coding_cookie_that_matches_the_bytes_is_analysed() -> None:
    assert codes(lint_bytes(b"# coding: latin-1\nname = '\xe9'\n" + FIRES.encode())) == ["MEM404"]


@pytest.mark.parametrize("newline", [b"\r\n", b"\r", b"\n"])
def test_line_endings_give_the_same_lines_and_noqa(newline: bytes) -> None:
    lines = [b"import sys", b"sys.setrecursionlimit(10**9)  # noqa: MEM404", b"sys.setrecursionlimit(10**9)", b""]
    [diagnostic] = lint_bytes(newline.join(lines))
    assert (diagnostic.line, diagnostic.code) == (3, "MEM404")


def test_form_feeds_do_not_shift_lines() -> None:
    # str.splitlines() breaks at \x0c; Python and libcst do not. A noqa must
    # be looked up on the line the finding is on.
    source = "import sys\n\x0c\nx = 1\x0c  # page\nsys.setrecursionlimit(10**9)  # noqa: MEM404\n\x0cdef f():\n\x0c    sys.setrecursionlimit(10**9)\n"
    assert [(d.line, d.code) for d in lint_text(source)] == [(6, "MEM404")]


def test_tabs_are_analysed_and_inconsistent_tabs_are_mem001() -> None:
    assert codes(lint_text("import sys\nif True:\n\tsys.setrecursionlimit(10**9)\n")) == ["MEM404"]
    diagnostic = only(lint_text("import sys\nif True:\n\tx = 1\n        sys.setrecursionlimit(10**9)\n"), "MEM001")
    assert "tab" in diagnostic.message


def test_file_only_libcst_rejects_says_so() -> None:
    # libcst 1.9 rejects this valid file; it is reported as its limitation.
    diagnostic = only(lint_text("x = " + " ".join(["'a'"] * 5_000) + "\n" + FIRES), "MEM001")
    assert "libcst cannot parse this file, which CPython accepts" in diagnostic.message


def test_parser_crash_becomes_mem002(monkeypatch: pytest.MonkeyPatch) -> None:
    class PanicException(BaseException):
        """What pyo3 raises when libcst's native parser panics."""

    def panic(text: str) -> None:
        raise PanicException("index out of bounds")

    monkeypatch.setattr("memlint.engine.cst.parse_module", panic)
    diagnostic = only(lint_text(FIRES), "MEM002")
    assert "PanicException: index out of bounds" in diagnostic.message


def test_name_tracker_failure_becomes_mem002(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object, node: object) -> None:
        raise KeyError("scope")

    monkeypatch.setattr("memlint.tree.names.NameTracker.on_visit", broken)
    assert only(lint_text(FIRES), "MEM002").message.startswith("internal error: KeyError")


def test_file_larger_than_max_file_size_is_skipped(tmp_path: Path) -> None:
    # 50 MB generated module: libcst would need tens of GB for it.
    big = tmp_path / "generated.py"
    with big.open("w") as handle:
        line = "VALUE_{0} = [{0}, 'padding padding padding']\n"
        index = written = 0
        while written < 50_000_000:
            written += handle.write(line.format(index))
            index += 1
    small = tmp_path / "small.py"
    small.write_text(FIRES * 100)  # ~4 KB
    result = memlint_cli("--format", "json", "generated.py", "small.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    document = __import__("json").loads(result.stdout)
    [skip] = document["skipped"]
    assert skip["path"] == "generated.py"
    assert skip["reason"].startswith("larger than max-file-size (50,000,")
    assert document["summary"]["files_checked"] == 1

    (tmp_path / "pyproject.toml").write_text('[tool.memlint]\nmax-file-size = "1KB"\n')
    text = memlint_cli("small.py", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "small.py: skipped: larger than max-file-size (4,000 > 1,000 bytes)" in text.stdout
    assert "0 files checked, 1 skipped" in text.stdout


def test_hostile_files_in_parallel_run_leave_workers_alive(tmp_path: Path) -> None:
    (tmp_path / "deep.py").write_text("x = " + "-" * 2_900 + "1\n" + FIRES)
    (tmp_path / "brackets.py").write_text("x = " + "[" * 1000 + "]" * 1000 + "\n")
    (tmp_path / "nul.py").write_bytes(b"\0\0\0")
    (tmp_path / "fine.py").write_text(FIRES)
    result = memlint_cli("--select", "MEM", "-j", "2", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line.split(": ", 2)[1].split()[0] for line in lines[:4]] == ["MEM001", "MEM404", "MEM404", "MEM001"]
    assert "4 files checked: 4 findings" in result.stdout


def _die_on(job: int) -> int:
    import faulthandler

    faulthandler.disable()  # pytest's, inherited by the fork: no dump for a deliberate crash
    if job == 2:
        os.kill(os.getpid(), signal.SIGSEGV)
    if job == 4:
        os.kill(os.getpid(), signal.SIGKILL)
    if job == 6:
        raise ValueError("bug")
    return job * 10


def _no_init() -> None:
    pass


def test_pool_reports_the_job_a_dead_worker_was_running() -> None:
    pool: Pool[int, object] = Pool(2, _die_on, lambda job, why: (job, why), _no_init)
    results = list(pool.imap(range(9)))
    assert results[:2] == [0, 10] and results[3] == 30 and results[5] == 50 and results[7:] == [70, 80]
    assert results[2] == (2, "memlint's worker process was killed by SIGSEGV while checking this file")
    assert results[4] == (4, "memlint's worker process was killed by SIGKILL (out of memory?) while checking this file")
    assert results[6] == (6, "internal error: ValueError: bug")


def test_dead_worker_becomes_mem002_for_that_file_only() -> None:
    from memlint.runner import failed_result

    result = failed_result(("crash.py", frozenset({"MEM002", "MEM404"})), "worker killed by SIGSEGV")
    assert [(d.path, d.code, d.message) for d in result.diagnostics] == [("crash.py", "MEM002", "worker killed by SIGSEGV")]
    assert failed_result(("crash.py", frozenset({"MEM404"})), "killed").skipped == "killed"


def memlint_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memlint", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
    )


def test_syntax_warnings_of_checked_code_are_not_printed_or_raised() -> None:
    import warnings

    source = "x = 1\nif x is 1:\n    y = 1(2)\n" + FIRES
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as under `python -W error` or pytest's filterwarnings
        assert codes(lint_text(source)) == ["MEM404"]


def _pid_of(job: int) -> tuple[int, int]:
    return job, os.getpid()


def test_pool_replaces_workers_after_max_tasks_and_keeps_order() -> None:
    pool: Pool[int, object] = Pool(2, _pid_of, lambda job, why: (job, why), _no_init, max_tasks=3)
    results = list(pool.imap(range(20)))
    assert [job for job, _ in results] == list(range(20))  # type: ignore[misc]
    pids = {pid for _, pid in results}  # type: ignore[misc]
    assert len(pids) >= 20 // 3  # no worker served more than three jobs
