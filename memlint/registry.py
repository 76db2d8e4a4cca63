"""Finds the rules in ``memlint.rules`` once per process and selects among them.

Two views of the same rules:

- ``catalogue()``: each rule's code, name, family, default and options, read
  from the generated ``memlint/_catalogue.py``. Selection, configuration,
  the ``rules`` listing and the reporters use it, so a run whose files all
  come from the result cache never imports the rules, nor with them libcst
  (about 0.2 s of a 0.4 s warm run).
- ``all_rules()``: the rule classes themselves, imported only when a file
  must really be linted (and by the docs).

``python -m memlint.docs`` regenerates the catalogue from the classes;
tests/test_catalogue.py fails when the two disagree.
"""

from __future__ import annotations

import importlib
import pkgutil
import pprint
import re
import textwrap
from collections.abc import Iterable, Iterator
from functools import lru_cache
from types import ModuleType
from typing import Final

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from memlint import options as option_parsers
from memlint.diagnostic import RUN_CODES, Family
from memlint.options import Option

if TYPE_CHECKING:
    from memlint.rule import Rule

CODE_RE: Final = re.compile(r"^MEM\d{3}$")
NAME_RE: Final = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


class RegistryError(Exception):
    """A rule module that breaks the registry's contract."""


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What the registry knows of a rule without importing it."""

    code: str
    name: str
    family: Family
    default: bool
    options: tuple[Option, ...] = ()


@lru_cache(maxsize=1)
def catalogue() -> tuple[RuleInfo, ...]:
    """Every rule's metadata, sorted by code (from ``memlint/_catalogue.py``)."""
    from memlint._catalogue import RULES

    return tuple(
        RuleInfo(code, name, Family(family), default, tuple(
            Option(key, value, help_text, getattr(option_parsers, parser)) for key, value, help_text, parser in options
        ))
        for code, name, family, default, options in RULES
    )


def catalogue_entries(rules: Iterable[type[Rule]]) -> list[tuple[Any, ...]]:
    """The catalogue's rows for ``rules``, as ``memlint/_catalogue.py`` spells them."""
    rows = []
    for rule in rules:
        options = []
        for option in rule.options:
            if getattr(option_parsers, option.parse.__name__, None) is not option.parse:
                raise RegistryError(f"{rule.code}: option {option.key!r} must use a parser from memlint.options")
            options.append((option.key, option.default, option.help, option.parse.__name__))
        rows.append((rule.code, rule.name, rule.family.value, rule.default, tuple(options)))
    return rows


def catalogue_source(rules: Iterable[type[Rule]]) -> str:
    """The text of ``memlint/_catalogue.py`` for ``rules``."""
    lines = [
        '"""Every rule\'s code, name, family, default and options (key, default, help,',
        'parser in memlint.options), so that selecting and configuring rules needs',
        'no rule import. Generated from the rule classes by `python -m memlint.docs`:',
        'do not edit."""',
        "",
        "RULES = (",
    ]
    for row in catalogue_entries(rules):
        lines.append(textwrap.indent(pprint.pformat(row, width=96), "    ") + ",")
    lines += [")", ""]
    return "\n".join(lines)


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule class in ``memlint.rules``, sorted by code.

    Rules live one module each in a family package (``memlint.rules.leak``,
    ...). Modules and packages whose name starts with ``_`` hold code shared
    inside a family and are skipped.
    """
    from memlint.rule import Rule

    found: dict[str, type[Rule]] = {}
    names: set[str] = set()
    for module in _rule_modules():
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value.__module__ == module.__name__ and "code" in vars(value):
                _validate(value)
                if value.code in found or value.name in names:
                    raise RegistryError(f"duplicate rule {value.code} {value.name}")
                found[value.code] = value
                names.add(value.name)
    return tuple(found[code] for code in sorted(found))


def _rule_modules() -> Iterator[ModuleType]:
    package = importlib.import_module("memlint.rules")
    for family in pkgutil.iter_modules(package.__path__):
        if family.name.startswith("_") or not family.ispkg:
            continue
        family_package = importlib.import_module(f"memlint.rules.{family.name}")
        for info in pkgutil.iter_modules(family_package.__path__):
            if not info.name.startswith("_"):
                yield importlib.import_module(f"{family_package.__name__}.{info.name}")


def _validate(rule: type[Rule]) -> None:
    if not CODE_RE.match(rule.code) or rule.code[:4] in ("MEM0",):
        raise RegistryError(f"{rule.__name__}: bad code {rule.code!r}")
    if not NAME_RE.match(rule.name):
        raise RegistryError(f"{rule.__name__}: name {rule.name!r} is not kebab-case")
    if not isinstance(rule.family, Family) or rule.family is Family.RUN:
        raise RegistryError(f"{rule.__name__}: bad family")


def rule_by_code(code: str) -> type[Rule] | None:
    """The rule class of ``code`` (imports the rules)."""
    for rule in all_rules():
        if rule.code == code.upper():
            return rule
    return None


def info_by_code(code: str) -> RuleInfo | None:
    """The catalogue entry of ``code`` (imports no rule)."""
    return next((info for info in catalogue() if info.code == code.upper()), None)


def all_codes() -> tuple[str, ...]:
    return tuple(r.code for r in RUN_CODES) + tuple(r.code for r in catalogue())


def all_options() -> dict[str, Option]:
    """Every rule option by config key (declarations of one key must agree)."""
    options: dict[str, Option] = {}
    for rule in catalogue():
        for option in rule.options:
            known = options.setdefault(option.key, option)
            if known.default != option.default:
                raise RegistryError(f"option {option.key!r} declared with two defaults")
    return options


def is_known_selector(selector: str) -> bool:
    """A code or code prefix (``MEM``, ``MEM2``, ``MEM201``) that names at least one rule."""
    selector = selector.upper()
    return any(code.startswith(selector) for code in all_codes())


def select_codes(
    select: Iterable[str] | None,
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
) -> frozenset[str]:
    """The enabled codes, ruff-style: the most specific matching prefix wins.

    ``select=None`` means the default rules. ``MEM`` selects every rule,
    opt-in ones included. On a tie between select and ignore, ignore wins.
    """
    # (prefix, enable?, specificity). The default set counts as selecting
    # "MEM": any explicit ignore, even `--ignore MEM`, overrides it.
    selectors: list[tuple[str, bool, int]] = []
    if select is None:
        base = {rule.code for rule in catalogue() if rule.default} | {r.code for r in RUN_CODES}
        selectors.extend((code, True, len("MEM")) for code in base)
    else:
        selectors.extend((s.upper(), True, len(s)) for s in select)
    selectors.extend((s.upper(), True, len(s)) for s in extend_select)
    selectors.extend((s.upper(), False, len(s)) for s in ignore)

    enabled: set[str] = set()
    for code in all_codes():
        best_len, best_on = -1, False
        for prefix, on, specificity in selectors:
            if code.startswith(prefix) and (specificity > best_len or (specificity == best_len and not on)):
                best_len, best_on = specificity, on
        if best_on:
            enabled.add(code)
    return frozenset(enabled)
