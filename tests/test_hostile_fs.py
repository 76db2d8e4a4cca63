"""Hostile file systems: every *.py is checked or reported as skipped with a
reason; nothing is opened that is not a regular file; odd names print."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from memlint.discovery import Discovery
from memlint.runner import read_source

FIRES = "import sys\nsys.setrecursionlimit(10**9)\n"


def memlint(*args: str, cwd: Path, preexec_fn: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memlint", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, preexec_fn=preexec_fn,
        errors="surrogateescape",
    )


def report(*args: str, cwd: Path, preexec_fn: Callable[[], None] | None = None) -> dict[str, object]:
    result = memlint("--format", "json", *args, cwd=cwd, preexec_fn=preexec_fn)
    assert "Traceback" not in result.stderr, result.stderr
    document = json.loads(result.stdout)
    document["returncode"] = result.returncode
    return document


def skipped(document: dict[str, object]) -> dict[str, str]:
    return {entry["path"]: entry["reason"] for entry in document["skipped"]}  # type: ignore[index, union-attr]


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "ok.py").write_text(FIRES)
    (pkg / "x.py").mkdir()  # a directory named like a module: walked
    (pkg / "x.py" / "inner.py").write_text(FIRES)
    (pkg / "loop.py").symlink_to("loop.py")
    (pkg / "ping.py").symlink_to("pong.py")
    (pkg / "pong.py").symlink_to("ping.py")
    (pkg / "dangling.py").symlink_to("missing.py")
    (pkg / "sub").mkdir()
    (pkg / "linked_dir.py").symlink_to("sub")
    (pkg / "null.py").symlink_to(os.devnull)
    os.mkfifo(pkg / "fifo.py")
    return tmp_path


def test_every_odd_entry_is_accounted_for(tree: Path) -> None:
    document = report("pkg", cwd=tree)
    assert document["returncode"] == 1
    assert [f["path"] for f in document["findings"]] == ["pkg/ok.py", "pkg/x.py/inner.py"]  # type: ignore[index, union-attr]
    assert skipped(document) == {
        "pkg/dangling.py": "broken symbolic link",
        "pkg/fifo.py": "a FIFO: not opened",
        "pkg/linked_dir.py": "a symbolic link to a directory: not followed",
        "pkg/loop.py": "cannot access: Too many levels of symbolic links",
        "pkg/null.py": "a device: not opened",
        "pkg/ping.py": "cannot access: Too many levels of symbolic links",
        "pkg/pong.py": "cannot access: Too many levels of symbolic links",
    }
    assert document["summary"]["files_checked"] == 2  # type: ignore[index]


def test_fifo_and_device_named_explicitly_are_not_opened(tree: Path) -> None:
    # Opening a FIFO for reading would block forever: the run must end.
    document = report("pkg/fifo.py", os.devnull, "pkg/ok.py", cwd=tree)
    assert skipped(document) == {"pkg/fifo.py": "a FIFO: not opened", os.devnull: "a device: not opened"}
    assert document["summary"]["files_checked"] == 1  # type: ignore[index]


def test_path_turned_fifo_after_discovery_is_not_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "swapped.py"
    os.mkfifo(path)
    assert read_source(str(path), 0) == "not a regular file (FIFO, socket or device): not opened"


def test_symlink_loop_named_explicitly_is_an_error(tree: Path) -> None:
    result = memlint("pkg/loop.py", "pkg/ok.py", cwd=tree)
    assert result.returncode == 2
    assert result.stderr == "memlint: error: pkg/loop.py: cannot access: Too many levels of symbolic links\n"
    assert "pkg/ok.py:2:1: MEM404" in result.stdout


def test_non_utf8_file_name_is_printed_byte_for_byte(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.py")  # latin-1 é: not valid UTF-8
    (tmp_path / name).write_text(FIRES)
    result = subprocess.run([sys.executable, "-m", "memlint", "."], cwd=tmp_path, capture_output=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(b"./caf\xe9.py:2:1: MEM404 ")
    for fmt in ("json", "sarif", "github"):
        other = subprocess.run([sys.executable, "-m", "memlint", "--format", fmt, "."], cwd=tmp_path, capture_output=True, timeout=120)
        assert other.returncode == 1 and other.stderr == b"", (fmt, other.stderr)
    sarif = subprocess.run([sys.executable, "-m", "memlint", "--format", "sarif", "."], cwd=tmp_path, capture_output=True, timeout=120)
    assert b'caf%E9.py"' in sarif.stdout
    out = subprocess.run([sys.executable, "-m", "memlint", "-o", "report.txt", "."], cwd=tmp_path, capture_output=True, timeout=120)
    assert out.returncode == 1 and (tmp_path / "report.txt").read_bytes().startswith(b"./caf\xe9.py:2:1: MEM404")


def test_file_vanishing_before_it_is_read(tmp_path: Path) -> None:
    assert read_source(str(tmp_path / "gone.py"), 0) == "vanished before it could be read"


def test_tree_vanishing_during_discovery(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "m.py").write_text("x = 1\n")
    walk: Iterator[object] = Discovery([], tmp_path).files([str(tmp_path)])
    first = next(walk)
    shutil.rmtree(tmp_path / "b")
    shutil.rmtree(tmp_path / "c")
    rest = list(walk)
    assert first.path.endswith("a/m.py")  # type: ignore[attr-defined]
    # Directories listed before they vanished are reported, not fatal.
    assert [(Path(f.path).name, f.problem) for f in rest] == [  # type: ignore[attr-defined]
        ("b", "cannot read directory: No such file or directory"),
        ("c", "cannot read directory: No such file or directory"),
    ]


def _drop_dac_capabilities() -> None:
    """Run as root without the capabilities that bypass file permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _permission_preexec() -> Callable[[], None] | None:
    if os.geteuid() != 0:
        return None
    if not sys.platform.startswith("linux"):
        pytest.skip("root ignores file modes and capabilities cannot be dropped here")
    try:
        subprocess.run(["true"], preexec_fn=_drop_dac_capabilities, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"root ignores file modes and dropping CAP_DAC_OVERRIDE failed: {exc}")
    return _drop_dac_capabilities


def test_unreadable_file_and_directory() -> None:
    preexec = _permission_preexec()
    # Not tmp_path: its parents are private to the owner; the checked
    # process must reach the tree through ordinary permissions.
    top = Path(tempfile.mkdtemp(prefix="memlint-perm-"))
    try:
        os.chmod(top, 0o755)
        (top / "ok.py").write_text(FIRES)
        (top / "secret.py").write_text(FIRES)
        (top / "secret.py").chmod(0)
        (top / "locked").mkdir()
        (top / "locked" / "hidden.py").write_text(FIRES)
        (top / "locked").chmod(0)
        document = report(".", cwd=top, preexec_fn=preexec)
        assert skipped(document) == {
            "./locked": "cannot read directory: Permission denied",
            "./secret.py": "cannot read: Permission denied",
        }
        assert document["returncode"] == 1
        assert document["summary"]["files_checked"] == 1  # type: ignore[index]
    finally:
        (top / "locked").chmod(stat.S_IRWXU)
        shutil.rmtree(top)


def test_fifo_named_like_a_config_file_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(FIRES)
    os.mkfifo(tmp_path / "pyproject.toml")
    os.mkfifo(tmp_path / ".gitignore")
    (tmp_path / ".git").mkdir()
    result = memlint(".", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("./app.py:2:1: MEM404")
