"""SLOW (about a minute on two idle cores, several on busy ones): memlint over
CPython's own test suite, which ships deliberately broken files (bad syntax,
bad encodings, odd bytes). Marked ``slow``, so a plain ``pytest`` leaves it
out; ``pytest -m ""`` (what CI runs) or ``pytest -m slow`` selects it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

STDLIB_TEST = Path(sysconfig.get_paths()["stdlib"]) / "test"


def python_entries(top: Path) -> int:
    """Every non-directory entry named *.py, as an independent count."""
    count = 0
    for directory, dirs, files in os.walk(top):
        count += sum(name.endswith(".py") for name in files)
        # os.walk lists symlinks to directories among dirs: memlint reports them.
        count += sum(name.endswith(".py") and os.path.islink(os.path.join(directory, name)) for name in dirs)
    return count


@pytest.mark.slow
@pytest.mark.skipif(not STDLIB_TEST.is_dir(), reason="the standard library's test package is not installed")
def test_stdlib_test_directory_is_crash_free_and_fully_accounted(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "memlint", "--select", "MEM", "--no-cache", "--exclude", "", "--format", "json",
         "--jobs", "2", str(STDLIB_TEST)],
        cwd=tmp_path, capture_output=True, text=True, timeout=1800,
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]
    assert result.stderr == ""
    document = json.loads(result.stdout)
    internal = [f"{f['path']}: {f['message']}" for f in document["findings"] if f["code"] == "MEM002"]
    assert internal == []
    summary = document["summary"]
    # Every file checked or skipped with a reason; none silently lost.
    assert summary["files_checked"] + summary["files_skipped"] == python_entries(STDLIB_TEST)
    assert summary["paths_excluded"] == 0
    assert all(entry["reason"] for entry in document["skipped"])
    # The deliberately broken files are reported as MEM001, each with a reason.
    unparsable = {Path(f["path"]).name: f["message"] for f in document["findings"] if f["code"] == "MEM001"}
    assert {"badsyntax_3131.py", "bad_coding.py", "bad_coding2.py", "badsyntax_pep3120.py"} <= set(unparsable)
    assert all(message.startswith("syntax error: ") and len(message) > 20 for message in unparsable.values())
