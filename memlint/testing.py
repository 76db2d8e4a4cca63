"""Helpers to lint snippets and fixtures in tests: the one place that knows
the fixture format.

A fixture marks each expected finding with a trailing ``# error: MEM201``
(several: ``# error: MEM201, MEM105``) on the line the finding points at.
``# option: strict = true`` lines (a TOML value) set rule options.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from memlint import _toml
from memlint.config import resolve_options
from memlint.diagnostic import Diagnostic
from memlint.engine import LintSettings, lint_source
from memlint.registry import all_rules, select_codes

EXPECT: Final = re.compile(r"#\s*error:\s*(?P<codes>MEM\d{3}(?:\s*,\s*MEM\d{3})*)")
OPTION: Final = re.compile(r"^#\s*option:\s*(?P<key>[a-z][a-z0-9-]*)\s*=\s*(?P<value>.+?)\s*$", re.MULTILINE)


def settings_for(select: Iterable[str] | None = ("MEM",), raw_options: dict[str, Any] | None = None) -> LintSettings:
    codes = select_codes(list(select) if select is not None else None)
    rules = tuple(rule for rule in all_rules() if rule.code in codes)
    return LintSettings(rules=rules, options=resolve_options(raw_options or {}, "<test>"))


def lint_text(text: str, select: Iterable[str] | None = ("MEM",), path: str = "snippet.py", **options: Any) -> list[Diagnostic]:
    """Lint a snippet with every rule (``select`` narrows); options by attr name."""
    raw = {key.replace("_", "-"): value for key, value in options.items()}
    return lint_source(text, path, settings_for(select, raw))


def expected_findings(text: str) -> set[tuple[int, str]]:
    expected: set[tuple[int, str]] = set()
    # Python's line breaks only: str.splitlines() also splits at form feeds.
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        match = EXPECT.search(line)
        if match:
            for code in match.group("codes").split(","):
                expected.add((number, code.strip()))
    return expected


def fixture_options(text: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for match in OPTION.finditer(text):
        options[match.group("key")] = _toml.loads(f"v = {match.group('value')}")["v"]
    return options


def check_fixture(text: str, path: str = "fixture.py") -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    """(missing, extra) findings of a fixture, with every rule enabled."""
    settings = settings_for(("MEM",), fixture_options(text))
    found = {(d.line, d.code) for d in lint_source(text, path, settings)}
    expected = expected_findings(text)
    return expected - found, found - expected
