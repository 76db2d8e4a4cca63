"""The generated rule catalogue agrees with the rule classes, and a warm run
(every file from the result cache) never imports the rules nor libcst."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from memlint.docs import CATALOGUE_PATH
from memlint.registry import all_rules, catalogue, catalogue_source

ROOT = Path(__file__).resolve().parent.parent

# Runs the CLI in-process and prints whether libcst (or a rule) was imported.
WARM_PROBE = """
import sys
from memlint.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exc:
    status = exc.code
loaded = sorted(m for m in sys.modules if m == "libcst" or m.startswith(("libcst.", "memlint.rules.", "memlint.engine")))
print("LOADED", loaded, "STATUS", status, file=sys.stderr)
"""


def test_catalogue_file_is_generated_from_the_rules() -> None:
    assert CATALOGUE_PATH.read_text(encoding="utf-8") == catalogue_source(all_rules()), (
        "memlint/_catalogue.py is out of date: run `python -m memlint.docs`"
    )


def test_catalogue_matches_each_rule_class() -> None:
    rules = all_rules()
    assert [info.code for info in catalogue()] == [rule.code for rule in rules]
    for info, rule in zip(catalogue(), rules):
        assert (info.name, info.family, info.default) == (rule.name, rule.family, rule.default)
        assert [(o.key, o.default, o.help, o.parse) for o in info.options] == [
            (o.key, o.default, o.help, o.parse) for o in rule.options
        ]


def test_warm_run_imports_no_libcst(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    command = [sys.executable, "-m", "memlint", "--select", "MEM", "-j", "1", "fixtures"]
    cold = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert cold.returncode == 1, cold.stderr
    warm = subprocess.run([sys.executable, "-c", WARM_PROBE, "--select", "MEM", "-j", "1", "fixtures"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert "LOADED [] STATUS 1" in warm.stderr, warm.stderr
    assert warm.stdout == cold.stdout  # the same findings, from the cache
