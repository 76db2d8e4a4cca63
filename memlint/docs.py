"""Rule documentation from the registry: ``memlint rule CODE``, ``docs/rules/`` and README.md's rule table
(``python -m memlint.docs``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from memlint.atomic import write_atomic
from memlint.diagnostic import Family
from memlint.options import Option
from memlint.diagnostic import RUN_CODES, RunCode
from memlint.registry import all_rules, catalogue_source, rule_by_code
from memlint.rule import Rule, split_sections

DEFAULT_DIR = Path("docs") / "rules"
# The registry's rule catalogue, generated beside the package's modules.
CATALOGUE_PATH = Path(__file__).resolve().parent / "_catalogue.py"
INDEX = "README.md"
FAMILY_TITLES = {
    Family.RUN: "run (files memlint could not check)",
    Family.LEAK: "leak (memory that only grows)",
    Family.RESOURCE: "resource (handles never released)",
    Family.LIFECYCLE: "lifecycle (threads, timers, tasks never stopped)",
    Family.OOM: "oom (one sudden large allocation)",
}
# Sections in page order; any other docstring section follows "Use instead".
_FIRST = ("What it does", "Why is this bad?", "Example", "Use instead")


def rule_text(code: str) -> str | None:
    """The full documentation of ``code`` in Markdown, or None if unknown."""
    code = code.upper()
    for run_code in RUN_CODES:
        if run_code.code == code:
            return _run_code_page(run_code)
    rule = rule_by_code(code)
    return None if rule is None else _rule_page(rule)


def _run_code_page(run_code: RunCode) -> str:
    return (
        f"# {run_code.code} {run_code.name}\n\n{run_code.message[0].upper()}{run_code.message[1:]}.\n\n"
        f"- Family: {FAMILY_TITLES[run_code.family]}\n- Default: always on\n\n"
        f"## What it does\n{run_code.doc}\n"
    )


def _rule_page(rule: type[Rule]) -> str:
    sections = split_sections(rule.__doc__ or "")
    facts = [f"- Family: {FAMILY_TITLES[rule.family]}"]
    if rule.default:
        facts.append("- Default: on")
    else:
        facts.append(
            f"- Default: off (opt-in): enable with `--extend-select {rule.code}`, "
            f"`extend-select = [\"{rule.code}\"]` in `[tool.memlint]`, or flake8's `--extend-select {rule.code}`"
        )
    if rule.seed:
        facts.append(f"- {'Out-of-memory' if rule.family is Family.OOM else 'Leak'} scenario: {rule.seed}")
    parts = [f"# {rule.code} {rule.name}\n"]
    if sections.get(""):
        parts.append(sections[""] + "\n")
    parts.append("\n".join(facts) + "\n")
    order = [h for h in _FIRST if h in sections] + [h for h in sections if h and h not in _FIRST and h != "Options"]
    for heading in order:
        parts.append(f"## {heading}\n{sections[heading]}\n")
        if heading == "Use instead" or (heading == order[-1] and "Use instead" not in order):
            options = _options_section(rule, sections.get("Options", ""))
            if options:
                parts.append(options)
    return "\n".join(parts)


def _options_section(rule: type[Rule], prose: str) -> str:
    if not rule.options and not prose:
        return ""
    text = "## Options\n"
    prose = _without_option_bullets(prose, rule.options)
    if prose:
        text += prose + "\n\n"
    if rule.options:
        text += "| `[tool.memlint]` key | flake8 option | default | meaning |\n|---|---|---|---|\n"
        text += "".join(
            f"| `{o.key}` | `--memlint-{o.key}` | `{_toml_value(o.default)}` | {_cell(o.help)} |\n" for o in rule.options
        )
        text += (
            "\nIn `pyproject.toml`:\n\n```toml\n[tool.memlint]\n"
            + "".join(f"{o.key} = {_toml_value(o.default)}\n" for o in rule.options)
            + "```\n\nUnder flake8, in `setup.cfg`, `tox.ini` or `.flake8` (or as `--memlint-...` flags):\n\n"
            + "```ini\n[flake8]\n"
            + "".join(f"memlint-{o.key} = {_ini_value(o.default)}\n" for o in rule.options)
            + "```\n"
        )
    return text


def _without_option_bullets(prose: str, options: Sequence[Option]) -> str:
    """The docstring's Options prose minus ``- `key`: ...`` bullets (with
    their indented continuation lines): the generated table says the same."""
    declared = tuple(f"- `{o.key}`" for o in options)
    kept: list[str] = []
    dropping = False
    for line in prose.splitlines():
        if declared and line.startswith(declared):
            dropping = True
        elif not (dropping and line.startswith((" ", "\t"))):
            dropping = False
            kept.append(line)
    return "\n".join(kept).strip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # a table cell


def _ini_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return _toml_value(value).strip('"')


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def pages() -> dict[str, str]:
    """Every page of ``docs/rules/`` by file name, the index included."""
    out: dict[str, str] = {}
    rows = ["# memlint rules\n", "Generated by `python -m memlint.docs` from the rule registry; do not edit.\n",
            "| code | name | family | default |", "|---|---|---|---|"]
    for run_code in RUN_CODES:
        out[f"{run_code.code}.md"] = _run_code_page(run_code)
        rows.append(f"| [{run_code.code}]({run_code.code}.md) | {run_code.name} | {run_code.family.value} | always |")
    for rule in all_rules():
        out[f"{rule.code}.md"] = _rule_page(rule)
        rows.append(f"| [{rule.code}]({rule.code}.md) | {rule.name} | {rule.family.value} | {'on' if rule.default else 'off (opt-in)'} |")
    out[INDEX] = "\n".join(rows) + "\n"
    return out


README: Final = Path("README.md")
# README.md's rule table sits between these markers; only they are rewritten.
TABLE_START: Final = "<!-- rules-table -->"
TABLE_END: Final = "<!-- /rules-table -->"


def readme_table() -> str:
    """README's rule table, from the registry alone (no module paths: rules
    may move between packages without touching it)."""
    rows = ["| code | name | family | default |", "|---|---|---|---|"]
    for run_code in RUN_CODES:  # no page link: their pages hold one paragraph
        rows.append(f"| {run_code.code} | {run_code.name} | {run_code.family.value} | {'yes' if run_code.default else 'no'} |")
    for rule in all_rules():
        link = f"[{rule.code}]({DEFAULT_DIR.as_posix()}/{rule.code}.md)"
        rows.append(f"| {link} | {rule.name} | {rule.family.value} | {'yes' if rule.default else 'no (opt-in)'} |")
    return "\n".join(rows) + "\n"


def with_readme_table(text: str) -> str:
    """``text`` (README.md's content) with the table between the markers
    replaced by the generated one; ValueError when the markers are missing."""
    start = text.find(TABLE_START)
    end = text.find(TABLE_END, start)
    if start < 0 or end < 0:
        raise ValueError(f"README lacks the {TABLE_START} ... {TABLE_END} markers")
    return text[: start + len(TABLE_START)] + "\n" + readme_table() + text[end:]


def readme_drift(readme: Path) -> bool:
    """True when ``readme``'s rule table differs from the registry's."""
    text = _read(readme)
    return text is None or with_readme_table(text) != text


def write_readme(readme: Path) -> bool:
    """Regenerate ``readme``'s rule table in place; True if it changed."""
    if not readme_drift(readme):
        return False
    write_atomic(readme, with_readme_table(readme.read_text(encoding="utf-8")))
    return True


def drift(directory: Path) -> list[str]:
    """Files of ``directory`` that differ from, lack or outlive the registry."""
    expected = pages()
    present = {p.name for p in directory.glob("*.md")} if directory.is_dir() else set()
    problems = [name for name in sorted(expected) if name not in present or _read(directory / name) != expected[name]]
    problems += [name for name in sorted(present - set(expected)) if name.startswith("MEM")]
    return problems


def write(directory: Path) -> list[str]:
    """Bring ``directory`` in line with the registry; each file replaced atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = drift(directory)
    expected = pages()
    for name in changed:
        if name in expected:
            write_atomic(directory / name, expected[name])
        else:
            (directory / name).unlink()  # a rule that no longer exists
    return changed


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m memlint.docs",
        description="Generate docs/rules/, README.md's rule table and the rule catalogue (memlint/_catalogue.py) "
                    "from the rule classes.",
    )
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR, help=f"default: {DEFAULT_DIR}")
    parser.add_argument("--readme", type=Path, default=README, help=f"the README holding the rule table (default: {README})")
    parser.add_argument("--no-readme", action="store_true", help="leave the README alone")
    parser.add_argument("--check", action="store_true", help="exit 1 if the files differ from the registry; write nothing")
    args = parser.parse_args(argv)
    readme = None if args.no_readme else args.readme
    if readme is not None and TABLE_START not in (_read(readme) or ""):
        parser.error(f"{readme} has no {TABLE_START} ... {TABLE_END} block (or pass --no-readme)")
    catalogue = catalogue_source(all_rules())
    catalogue_stale = _read(CATALOGUE_PATH) != catalogue
    if args.check:
        problems = [args.directory / name for name in drift(args.directory)]
        if readme is not None and readme_drift(readme):
            problems.append(readme)
        if catalogue_stale:
            problems.append(CATALOGUE_PATH)
        for path in problems:
            sys.stdout.write(f"{path}: out of date\n")
        return 1 if problems else 0
    changed = [args.directory / name for name in write(args.directory)]
    if readme is not None and write_readme(readme):
        changed.append(readme)
    if catalogue_stale:
        write_atomic(CATALOGUE_PATH, catalogue)
        changed.append(CATALOGUE_PATH)
    for path in changed:
        sys.stdout.write(f"{path}: updated\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
