"""``# noqa`` and ``# memlint: skip-file`` comments, parsed the way flake8 does."""

from __future__ import annotations

import re
from typing import Final

# flake8's pattern (flake8/defaults.py), also accepting `#noqa` as ruff does:
# `# noqa`, `# noqa: MEM201`, `# noqa:MEM201,MEM202`, `# NOQA: MEM201 MEM202`.
NOQA_INLINE: Final = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?",
    re.IGNORECASE,
)
_CODE: Final = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
# A whole line, whatever the line endings (\n, \r\n or a lone \r). Horizontal
# whitespace only: `\s` also matches newlines, and `^\s*` retried at every
# line start made a file of many blank lines quadratic.
SKIP_FILE: Final = re.compile(
    r"(?:^|(?<=[\r\n]))[ \t\f]*#[ \t\f]*memlint[ \t\f]*:[ \t\f]*skip-file[ \t\f]*(?=[\r\n]|\Z)",
    re.IGNORECASE,
)


def noqa_codes(line: str) -> frozenset[str] | None:
    """None: no noqa on this line; empty set: blanket noqa; else the codes."""
    if "noqa" not in line.lower():
        return None
    match = NOQA_INLINE.search(line)
    if match is None:
        return None
    codes = match.group("codes")
    if not codes:
        return frozenset()
    return frozenset(code.upper() for code in _CODE.findall(codes))


def is_suppressed(code: str, line_text: str) -> bool:
    """Whether a finding of ``code`` on a line with this text is silenced."""
    codes = noqa_codes(line_text)
    if codes is None:
        return False
    # flake8 matches listed codes as prefixes: `# noqa: MEM2` silences MEM201.
    return not codes or any(code.startswith(listed) for listed in codes)


def skips_file(source: str) -> bool:
    return "memlint" in source and SKIP_FILE.search(source) is not None
