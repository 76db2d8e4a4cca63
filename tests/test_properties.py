"""Property tests: the engine never raises, results are deterministic (across
runs and --jobs), and noqa/config parsing never raise on arbitrary input.

Bounded for CI (small max_examples, derandomized so a run is reproducible);
bench/fuzz.py runs the same properties for longer.
"""

from __future__ import annotations

import string
import tempfile
from pathlib import Path
from typing import Any

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memlint import _toml
from memlint.config import Config, ConfigError, load_config, parse_table
from memlint.diagnostic import Diagnostic
from memlint.discovery import Discovery
from memlint.engine import lint_source
from memlint.registry import all_rules
from memlint.runner import Selection, run
from memlint.suppression import is_suppressed, noqa_codes, skips_file
from memlint.testing import settings_for

# Generated programs by the hundred: slow, so left out of a plain `pytest` (CI runs them).
pytestmark = pytest.mark.slow

CI = settings(max_examples=25, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
# Every rule's trigger words in a comment: otherwise the textual screen
# skips almost every rule on generated code and the walk is never tested.
TRIGGERS = "# " + " ".join(sorted({word for rule in all_rules() for word in rule.triggers})) + "\n"
RULE_CODES = {rule.code for rule in all_rules()}


def lint(source: str | bytes) -> list[Diagnostic]:
    return lint_source(source, "generated.py", settings_for(("MEM",)))


def assert_no_internal_error(diagnostics: list[Diagnostic], source: str) -> None:
    for d in diagnostics:
        assert d.code != "MEM002", f"{d.message}\n--- source ---\n{source}"
        assert d.code in RULE_CODES or d.code == "MEM001", d


@CI
@given(hypothesmith.from_grammar())
def test_engine_never_fails_on_valid_programs(program: str) -> None:
    source = TRIGGERS + program
    diagnostics = lint(source)
    assert_no_internal_error(diagnostics, source)
    for d in diagnostics:
        # CPython accepts every generated program; only a libcst gap may refuse it.
        assert d.code != "MEM001" or "libcst cannot parse this file" in d.message, d
    assert lint(source) == diagnostics  # deterministic
    assert lint(source.encode("utf-8")) == diagnostics  # bytes and text alike


@settings(CI, max_examples=10)  # about 1 s per example
@given(hypothesmith.from_node())
def test_engine_never_fails_on_libcst_generated_modules(program: str) -> None:
    source = TRIGGERS + program
    assert_no_internal_error(lint(source), source)


@CI
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_engine_never_raises_on_arbitrary_text(text: str) -> None:
    source = TRIGGERS + text
    diagnostics = lint(source)
    assert_no_internal_error(diagnostics, source)
    assert lint(source) == diagnostics


@CI
@given(st.binary(max_size=400))
def test_engine_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    assert_no_internal_error(lint(TRIGGERS.encode() + data), repr(data))
    assert_no_internal_error(lint(data), repr(data))


@settings(CI, max_examples=3)
@given(st.lists(hypothesmith.from_grammar(), min_size=4, max_size=8))
def test_results_are_identical_across_jobs(programs: list[str]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        paths = []
        for index, program in enumerate(programs):
            path = Path(directory) / f"module_{index}.py"
            path.write_text(TRIGGERS + program, encoding="utf-8")
            paths.append(str(path))
        selection = Selection(Config(select=["MEM"]))
        serial = list(run(paths, selection, 1))
        parallel = list(run(paths, selection, 2))
        assert serial == parallel
        assert list(run(paths, selection, 2)) == parallel


CODE = st.from_regex(r"[A-Za-z]{1,4}[0-9]{0,4}", fullmatch=True)
NOQA_LINES = st.one_of(
    st.text(max_size=300),
    st.builds(lambda before, sep, codes, after: f"{before}# noqa{sep}{codes}{after}",
              st.text(max_size=40), st.sampled_from(["", ":", ": ", ":  ", " :"]),
              st.lists(CODE, max_size=6).map(lambda codes: ", ".join(codes)), st.text(max_size=40)),
)


@CI
@given(NOQA_LINES, CODE)
def test_noqa_parsing_never_raises(line: str, code: str) -> None:
    codes = noqa_codes(line)
    assert codes is None or all(c == c.upper() for c in codes)
    assert isinstance(is_suppressed(code.upper(), line), bool)
    assert isinstance(skips_file(line + "\nmemlint"), bool)


KEYS = st.one_of(
    st.sampled_from(["select", "ignore", "extend-select", "exclude", "extend-exclude", "per-file-ignores",
                     "max-file-size", "recursion-limit", "strict"]),
    st.text(alphabet=string.ascii_letters + string.digits + "-_. ", min_size=1, max_size=12),
)
SCALARS = st.one_of(
    st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20), st.sampled_from(["MEM", "MEM4", "MEM404", "MEM999", "1GiB", "10 MB", "*.py", "[", "**/x/**", "!a"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=8)


def _toml_text(table: dict[str, Any]) -> str:
    import json

    # JSON scalars and arrays are (mostly) TOML inline values; what is not
    # must fail as a TOML error, not a crash.
    lines = ["[tool.memlint]"]
    for key, value in table.items():
        lines.append(f"{json.dumps(key)} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


@CI
@given(st.dictionaries(KEYS, VALUES, max_size=5))
def test_config_parsing_never_raises_but_config_error(table: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "pyproject.toml"
        source.write_text(_toml_text(table), encoding="utf-8")
        for attempt in (lambda: parse_table(table, source), lambda: load_config(source)):
            try:
                config = attempt()
            except ConfigError as exc:
                assert "\n" not in str(exc) and str(source) in str(exc)
                continue
            # A config that loads must also be usable.
            Selection(config).codes_for(str(Path(directory) / "a.py"))
            list(Discovery(config.exclude + config.extend_exclude, config.root).files([directory]))


@CI
@given(st.text(max_size=300))
def test_config_file_of_arbitrary_text(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "pyproject.toml"
        source.write_text("[tool.memlint]\n" + text, encoding="utf-8", errors="surrogatepass")
        try:
            load_config(source)
        except ConfigError as exc:
            assert "\n" not in str(exc)


def test_toml_helper_matches_tomllib() -> None:
    assert _toml.loads(_toml_text({"select": ["MEM4"]})) == {"tool": {"memlint": {"select": ["MEM4"]}}}
