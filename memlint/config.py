"""``[tool.memlint]`` from pyproject.toml: the one config loader for the CLI,
the pre-commit hook and (for rule options) the flake8 plugin."""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import pathspec

from memlint import _toml
from memlint.options import OptionError, parse_byte_size, parse_str_list
from memlint.registry import all_options, is_known_selector

DEFAULT_EXCLUDE: Final = (
    ".git", ".hg", ".svn", ".venv", "venv", "__pycache__", "build", "dist", ".tox", ".nox",
    "node_modules", "site-packages", ".eggs", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".memlint_cache",
)
DEFAULT_MAX_FILE_SIZE: Final = 10 * 1000 * 1000

_LIST_KEYS: Final = ("select", "ignore", "extend-select", "exclude", "extend-exclude")
_CODE_KEYS: Final = ("select", "ignore", "extend-select")


class ConfigError(Exception):
    """A configuration problem: printed as one line, exit status 2."""


@dataclass(slots=True)
class Config:
    """Effective settings before the per-file view (per-file-ignores)."""

    source: Path | None = None
    root: Path = field(default_factory=Path.cwd)
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: list[str] = field(default_factory=list)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    options: dict[str, Any] = field(default_factory=lambda: resolve_options({}, "defaults"))

    def with_overrides(self, **changes: Any) -> Config:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.memlint] table, walking up."""
    directory = start.resolve()
    for candidate in (directory, *directory.parents):
        path = candidate / "pyproject.toml"
        try:
            if not path.is_file():  # absent, or a FIFO that would block the read
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        # Parse only files that can hold the table: an unrelated broken
        # pyproject.toml higher up is not memlint's business.
        if "memlint" in text:
            data = _read_toml(path)
            if isinstance(data.get("tool"), dict) and "memlint" in data["tool"]:
                return path
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        return _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_config(explicit: Path | None = None, start: Path | None = None) -> Config:
    """Load ``[tool.memlint]`` from ``explicit`` or the nearest pyproject.toml."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: config file not found")
        data = _read_toml(explicit)
        table = data.get("tool", {}).get("memlint") if isinstance(data.get("tool"), dict) else None
        if table is None:
            # A dedicated memlint.toml may hold the keys at top level.
            table = data if explicit.name != "pyproject.toml" else {}
        return parse_table(table, explicit)
    found = find_pyproject(start or Path.cwd())
    if found is None:
        return Config()
    return parse_table(_read_toml(found)["tool"]["memlint"], found)


def parse_table(table: object, source: Path) -> Config:
    """Validate a ``[tool.memlint]`` table; every error names file, key and,
    where it can be found, the line."""
    if not isinstance(table, dict):
        raise ConfigError(f"{_where(source, ())}: [tool.memlint] must be a table")
    config = Config(source=source, root=source.parent.resolve())
    known_options = all_options()
    raw_options: dict[str, Any] = {}
    for key, value in table.items():
        where = _where(source, (key,))
        if key in _LIST_KEYS:
            try:
                values = parse_str_list(value) if not isinstance(value, str) else _reject_string(value)
            except OptionError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            if key in _CODE_KEYS:
                _check_codes(values, where)
            elif key in ("exclude", "extend-exclude"):
                for pattern in values:
                    _check_pattern(pattern, where)
            setattr(config, key.replace("-", "_"), values)
        elif key == "per-file-ignores":
            config.per_file_ignores = _parse_per_file_ignores(value, source)
        elif key == "max-file-size":
            try:
                config.max_file_size = parse_byte_size(value)
            except OptionError as exc:
                raise ConfigError(f"{where}: {exc}") from None
        elif key in known_options:
            try:
                known_options[key].parse(value)
            except OptionError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            raw_options[key] = value
        else:
            raise ConfigError(f"{where}: unknown key{_did_you_mean(key, known_options)}")
    config.options = resolve_options(raw_options, str(source))
    return config


def _did_you_mean(key: object, known_options: dict[str, Any]) -> str:
    keys = [*_LIST_KEYS, "per-file-ignores", "max-file-size", *known_options]
    close = difflib.get_close_matches(str(key), keys, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _where(source: Path, keys: tuple[str, ...]) -> str:
    """``file:line: tool.memlint.key`` (the line when it can be found)."""
    line = _key_line(source, keys)
    dotted = ".".join(("tool.memlint", *(k if _BARE_KEY.match(k) else json.dumps(k) for k in keys)))
    return f"{source}:{line}: {dotted}" if line else f"{source}: {dotted}"


_BARE_KEY: Final = re.compile(r"^[A-Za-z0-9_-]+$")


def _key_line(source: Path, keys: tuple[str, ...]) -> int | None:
    """Best effort: tomllib keeps no positions, so the key is looked for in
    the text, below the ``[tool.memlint]`` header when there is one."""
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeError):
        return None
    header = re.compile(r"^\s*\[\s*tool\s*\.\s*memlint\s*[.\]]")
    start = next((i for i, text in enumerate(lines) if header.match(text)), None)
    if start is None:
        start, keys = 0, ("memlint", *keys)  # `memlint = ...` under [tool], or dotted keys
    elif not keys:
        return start + 1
    found = None
    for key in keys:
        pattern = re.compile(r"""^\s*(?:[\w.-]+\.)?["']?%s["']?\s*=|[{,]\s*["']?%s["']?\s*=|^\s*\[.*["']?%s["']?\s*\]\s*$"""
                             % ((re.escape(str(key)),) * 3))
        match = next((i for i in range(start, len(lines)) if pattern.search(lines[i])), None)
        if match is None:
            return found
        found = start = match
    return None if found is None else found + 1


def _reject_string(value: str) -> list[str]:
    raise OptionError(f"expected a list of strings, got the string {value!r}")


def _check_codes(values: list[str], where: str) -> None:
    for value in values:
        if not is_known_selector(value):
            raise ConfigError(f"{where}: unknown rule code {value!r}")


def _parse_per_file_ignores(value: object, source: Path) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{_where(source, ('per-file-ignores',))}: expected a table of glob = [codes]")
    out: dict[str, list[str]] = {}
    for pattern, codes in value.items():
        where = _where(source, ("per-file-ignores", pattern))
        try:
            parsed = parse_str_list(codes)
        except OptionError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        _check_codes(parsed, where)
        _check_pattern(pattern, where)
        out[pattern] = parsed
    return out


def _check_pattern(pattern: str, where: str) -> None:
    try:
        pathspec.GitIgnoreSpec.from_lines([pattern])
    except Exception as exc:  # noqa: BLE001 - pathspec raises several types for bad globs
        raise ConfigError(f"{where}: invalid glob {pattern!r}: {exc}") from None


def resolve_options(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """Rule option values by attribute name, defaults filled in, types checked."""
    known = all_options()
    values = {option.attr: option.default for option in known.values()}
    for key, value in raw.items():
        option = known.get(key)
        if option is None:
            raise ConfigError(f"{source}: {key}: unknown option")
        try:
            values[option.attr] = option.parse(value)
        except OptionError as exc:
            raise ConfigError(f"{source}: {key}: {exc}") from None
    return values


def relative_posix(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form, for glob matching."""
    try:
        return Path(os.path.relpath(path.resolve(), root)).as_posix()
    except ValueError:
        return path.as_posix()
