"""The wheel ships memlint.rules inside memlint, never a top-level `rules`."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # builds a wheel
def test_wheel_file_list(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    [wheel] = tmp_path.glob("memlint-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith("rules/")]
    assert "memlint/rules/__init__.py" in names
    assert "memlint/engine.py" in names and "memlint/cli.py" in names
    # Every module under rules/, families and their sub-packages included
    # (pyproject lists each package: one left out would be missing here).
    shipped_rules = {n.removeprefix("memlint/rules/") for n in names if n.startswith("memlint/rules/") and n.endswith(".py")}
    assert shipped_rules == {p.relative_to(ROOT / "rules").as_posix() for p in (ROOT / "rules").rglob("*.py")}
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top_level == {"memlint"}


def test_memlint_rules_importable() -> None:
    import memlint.rules

    assert Path(memlint.rules.__file__).parent.name == "rules"


def test_memlint_is_clean_on_its_own_source() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "memlint", "memlint", "rules"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
