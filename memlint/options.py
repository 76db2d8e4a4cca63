"""Typed rule options: declared by rules, filled from config or flake8 flags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?i?B?)?\s*$", re.IGNORECASE)
_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "kib": 1024, "ki": 1024,
    "m": 1000**2, "mb": 1000**2, "mib": 1024**2, "mi": 1024**2,
    "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "gi": 1024**3,
    "t": 1000**4, "tb": 1000**4, "tib": 1024**4, "ti": 1024**4,
    "p": 1000**5, "pb": 1000**5, "pib": 1024**5, "pi": 1024**5,
}


class OptionError(ValueError):
    """An option value of the wrong type or shape."""


def parse_byte_size(value: object) -> int:
    """Parse ``1GiB``, ``"500 MB"`` or a plain integer into a number of bytes."""
    if isinstance(value, bool):
        raise OptionError("expected a byte size such as 1073741824 or \"1GiB\"")
    if isinstance(value, int):
        if value < 0:
            raise OptionError("a byte size cannot be negative")
        return value
    if isinstance(value, str):
        match = _SIZE_RE.match(value)
        if match:
            number, unit = match.group(1), (match.group(2) or "").lower()
            if unit in _UNITS:
                return int(float(number) * _UNITS[unit])
    raise OptionError(f"expected a byte size such as 1073741824 or \"1GiB\", got {value!r}")


def parse_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise OptionError(f"expected an integer, got {value!r}")
    return value


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
        return value.lower() in ("true", "1", "yes", "on")
    raise OptionError(f"expected true or false, got {value!r}")


def parse_str_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise OptionError(f"expected a list of strings, got {value!r}")


@dataclass(frozen=True, slots=True)
class Option:
    """A rule option: its config key (kebab-case), default and parser.

    The same key may be declared by several rules (``strict`` for the whole
    resource family) as long as the declarations agree.
    """

    key: str
    default: Any
    help: str
    parse: Callable[[object], Any] = parse_bool

    @property
    def attr(self) -> str:
        """The Python identifier under which rules read the value."""
        return self.key.replace("-", "_")
