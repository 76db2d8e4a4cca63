"""The bundled example shows a newcomer every default rule at work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from memlint.registry import all_rules

ROOT = Path(__file__).resolve().parent.parent


def test_example_service_fires_every_default_rule() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "memlint", "--no-cache", "--format", "json", "examples"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stderr
    found = {finding["code"] for finding in json.loads(result.stdout)["findings"]}
    assert found == {rule.code for rule in all_rules() if rule.default}
