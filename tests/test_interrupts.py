"""Ctrl-C, SIGTERM and closed pipes: prompt, quiet exits and no process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Signals to real process trees: slow, so left out of a plain `pytest` (CI runs them).
pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and uses process groups"),
    pytest.mark.slow,
]

FIRES = "import sys\nsys.setrecursionlimit(10**9)\n"


@pytest.fixture()
def slow_tree(tmp_path: Path) -> Path:
    """Files that each keep a worker busy for about a second."""
    for index in range(40):
        (tmp_path / f"chain_{index:02}.py").write_text("x = " + " + ".join(["a"] * 1500) + "\n" + FIRES)
    return tmp_path


def session_members(session: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # Zombies are already dead; their parent reaps them.
        if int(fields[3]) == session and fields[0] != "Z":
            members.append(int(entry))
    return members


def start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    # A new session stands for the terminal's foreground process group.
    return subprocess.Popen(
        [sys.executable, "-m", "memlint", *args], cwd=cwd, text=True, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def wait_for_workers(process: subprocess.Popen[str], count: int) -> None:
    """Until ``count`` workers run (0: until the parent is linting)."""
    deadline = time.monotonic() + 60
    while len(session_members(process.pid)) < count + 1:
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.05)
    # Past start-up (a Ctrl-C while Python imports memlint is Python's own
    # KeyboardInterrupt) and into the files.
    time.sleep(0.3 if count else 2.0)


@pytest.mark.parametrize(("send", "jobs"), [("group", "2"), ("parent", "2"), ("group", "1")])
def test_ctrl_c_exits_130_promptly_and_leaves_no_worker(slow_tree: Path, send: str, jobs: str) -> None:
    process = start(["--no-cache", "-j", jobs, "."], slow_tree)
    wait_for_workers(process, int(jobs) if jobs != "1" else 0)
    began = time.monotonic()
    if send == "group":  # what Ctrl-C in a terminal does
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    elapsed = time.monotonic() - began
    assert process.returncode == 130
    assert stderr == "memlint: interrupted\n"
    # jobs=1 finishes the file it is on (libcst does not check signals).
    assert elapsed < 5
    time.sleep(0.2)
    assert session_members(process.pid) == []


@pytest.mark.parametrize("jobs", [2, 1])
def test_sigterm_exits_143_and_leaves_no_worker(slow_tree: Path, jobs: int) -> None:
    process = start(["--no-cache", "-j", str(jobs), "."], slow_tree)
    wait_for_workers(process, jobs if jobs > 1 else 0)
    os.kill(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 143
    assert stderr == "memlint: terminated\n"
    time.sleep(0.2)
    assert session_members(process.pid) == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_closed_pipe_ends_quietly(tmp_path: Path, jobs: str) -> None:
    # `memlint ... | head -1`: ~1 MB of findings, the reader leaves after one line.
    for index in range(4):
        (tmp_path / f"many_{index}.py").write_text("import sys\n" + "sys.setrecursionlimit(10**9)\n" * 1500)
    process = start(["--no-cache", "-j", jobs, "."], tmp_path)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    process.wait(timeout=60)
    assert first.startswith("./many_0.py:2:1: MEM404")
    assert stderr == ""
    assert process.returncode == 0
    time.sleep(0.2)
    assert session_members(process.pid) == []


def test_shell_pipeline_into_head(tmp_path: Path) -> None:
    (tmp_path / "many.py").write_text("import sys\n" + "sys.setrecursionlimit(10**9)\n" * 5000)
    result = subprocess.run(
        f"'{sys.executable}' -m memlint --no-cache . | head -1", shell=True, cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )
    assert result.stdout.startswith("./many.py:2:1: MEM404")
    assert result.stderr == ""
