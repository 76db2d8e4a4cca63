"""Rule documentation as text: what ``memlint rule CODE`` prints and what
``docs/rules/`` is generated from."""

from __future__ import annotations

import inspect

from memlint.registry import RUN_CODES, all_options, rule_by_code


def rule_text(code: str) -> str | None:
    """The full documentation of ``code`` in Markdown, or None if unknown."""
    for run_code in RUN_CODES:
        if run_code.code == code:
            return f"# {run_code.code} {run_code.name}\n\nFamily: {run_code.family.value}. Always on.\n\n{run_code.doc}\n"
    rule = rule_by_code(code)
    if rule is None:
        return None
    default = "on by default" if rule.default else "off by default (opt-in: `--extend-select " + rule.code + "`)"
    header = f"# {rule.code} {rule.name}\n\nFamily: {rule.family.value}. {default.capitalize() if False else default[0].upper() + default[1:]}.\n"
    if rule.seed:
        header += f"Seed scenario: {rule.seed}.\n"
    body = inspect.cleandoc(rule.__doc__ or "")
    options = all_options()
    option_lines = [
        f"- `{opt.key}` (default `{opt.default}`): {opt.help}"
        for opt in rule.options
        if opt.key in options
    ]
    text = f"{header}\n{body}\n"
    if option_lines and "## Options" not in body:
        text += "\n## Options\n" + "\n".join(option_lines) + "\n"
    return text
