"""flake8 plugin: a thin adapter onto ``engine.lint_source`` (flake8 owns select/ignore/noqa)."""

from __future__ import annotations

import argparse
import ast
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

from memlint import __version__
from memlint.config import ConfigError, load_config, resolve_options
from memlint.engine import LintSettings, lint_source
from memlint.options import OptionError
from memlint.diagnostic import INTERNAL_ERROR, SYNTAX_ERROR
from memlint.registry import all_options, all_rules


def _flag(key: str) -> str:
    return f"--memlint-{key}"


def _dest(key: str) -> str:
    return "memlint_" + key.replace("-", "_")


class MemlintChecker:
    """flake8-bugbear's contract: ``run()`` yields ``(line, col0, "CODE message", type)``."""

    name = "memlint"
    version = __version__

    # Set once per process by parse_options (flake8 calls it in every worker).
    _settings: ClassVar[LintSettings | None] = None

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        # ``tree`` is unused: memlint needs libcst's tree, parsed from the same text.
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, manager: Any) -> None:
        for key, option in all_options().items():
            manager.add_option(
                _flag(key),
                dest=_dest(key),
                default=None,
                parse_from_config=True,
                metavar="VALUE",
                help=f"memlint: {option.help} (default: {option.default})",
            )
        # Opt-in rules stay off unless selected, as in the CLI.
        manager.extend_default_ignore([rule.code for rule in all_rules() if not rule.default])

    @classmethod
    def parse_options(cls, manager: Any, options: argparse.Namespace, filenames: Sequence[str]) -> None:
        selected = _selected_by_flake8(options)
        cls._settings = LintSettings(
            rules=tuple(rule for rule in all_rules() if selected(rule.code)),
            options=_option_values(options),
            report_syntax_errors=selected(SYNTAX_ERROR.code),
            report_internal_errors=selected(INTERNAL_ERROR.code),
            apply_noqa=False,  # flake8 applies `# noqa` itself
        )

    def run(self) -> Iterator[tuple[int, int, str, type[MemlintChecker]]]:
        settings = self._settings
        if settings is None:  # run outside flake8's option handling (tests, other hosts)
            settings = LintSettings(rules=tuple(r for r in all_rules() if r.default), options=resolve_options({}, "defaults"),
                                    apply_noqa=False)
        source = "".join(self.lines)
        if not any(rule.can_fire(source) for rule in settings.rules):
            # flake8 runs tree plugins only on files CPython parsed, so the
            # engine's own CPython check for MEM001 would be wasted here.
            return
        for d in lint_source(source, self.filename, settings):
            yield d.line, d.column - 1, f"{d.code} {d.message}", type(self)


def _option_values(options: argparse.Namespace) -> dict[str, Any]:
    """Rule options: ``[tool.memlint]`` of the nearest pyproject.toml, then
    flake8's ``--memlint-<key>`` (command line or setup.cfg/tox.ini/.flake8)."""
    from flake8.exceptions import ExecutionError

    try:
        values = load_config().options
    except ConfigError as exc:
        raise ExecutionError(f"memlint: config error: {exc}") from None
    for key, option in all_options().items():
        raw = getattr(options, _dest(key), None)
        if raw is None:
            continue
        try:
            values[option.attr] = option.parse(_flatten(raw) if isinstance(raw, str) else raw)
        except OptionError as exc:
            raise ExecutionError(f"memlint: {_flag(key)}: {exc}") from None
    return values


def _flatten(raw: str) -> str:
    """A multi-line config value (flake8's style for lists) as one comma list."""
    lines = [line.strip().rstrip(",") for line in raw.splitlines() if line.strip()]
    return ",".join(lines) if len(lines) > 1 else raw.strip()


def _selected_by_flake8(options: argparse.Namespace) -> Callable[[str], bool]:
    """Whether flake8 would report a code anywhere: running a rule flake8
    then discards costs time for nothing. Per-file-ignores stay flake8's."""
    try:
        from flake8.style_guide import Decision, DecisionEngine

        engine = DecisionEngine(options)
        return lambda code: engine.decision_for(code) is Decision.Selected
    except Exception:  # noqa: BLE001 - flake8 internals moved: run everything, flake8 still filters
        return lambda code: True
