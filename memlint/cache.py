"""Per-file result cache under ``.memlint_cache/``: a warm run re-reports without parsing."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from memlint import __version__
from memlint.atomic import write_atomic
from memlint.diagnostic import Diagnostic, Family

CACHE_DIR: Final = ".memlint_cache"
# Bumped whenever the entry layout changes: older entries then read as foreign.
FORMAT: Final = "memlint-cache-1"
# Results with an internal error may depend on the machine (stack depth,
# memory): they are recomputed every time rather than cached.
_UNCACHED_CODES: Final = frozenset({"MEM002"})


def content_digest(data: bytes) -> str:
    """The content part of an entry's key (blake2b: fast and collision-safe)."""
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def code_fingerprint() -> str:
    """memlint's version plus the size and mtime of its own modules and rules.

    The version alone would serve stale results to anyone editing a rule
    (a developer, an editable install); a stat of ~50 files costs < 1 ms.
    """
    parts = [__version__]
    for package in ("memlint", "memlint.rules"):
        spec = importlib.util.find_spec(package)
        for directory in (spec.submodule_search_locations or []) if spec else []:
            for root, dirs, files in os.walk(directory):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in sorted(files):
                    if name.endswith(".py"):
                        stat = os.stat(os.path.join(root, name))
                        parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def settings_fingerprint(codes: Iterable[str], options: Mapping[str, Any]) -> str:
    """The effective settings of one file: enabled codes and every option value."""
    text = json.dumps([sorted(codes), sorted(options.items())], default=repr, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class ResultCache:
    """One entry per (file path, settings, memlint build); the content digest
    inside the entry decides whether it is still valid.

    Entries are written to a temporary file and renamed into place, so
    concurrent runs never see a half-written entry; anything that does not
    read back as a well-formed entry of this format (truncated, corrupted,
    written by another version, hand-edited) is a miss and is overwritten.
    Every failure to read or write is silent: the cache only ever saves time.
    """

    def __init__(self, root: Path, options: Mapping[str, Any], fingerprint: str | None = None) -> None:
        self.directory = Path(root) / CACHE_DIR / "entries"
        self.options = dict(options)
        self.fingerprint = fingerprint or code_fingerprint()
        self._settings: dict[frozenset[str], str] = {}
        self._ready = False

    # -- keys ---------------------------------------------------------------
    def _settings_key(self, codes: frozenset[str]) -> str:
        key = self._settings.get(codes)
        if key is None:
            key = self._settings[codes] = settings_fingerprint(codes, self.options)
        return key

    def _entry_path(self, path: str, codes: frozenset[str]) -> Path:
        name = f"{self.fingerprint}\0{self._settings_key(codes)}\0{os.path.abspath(path)}"
        digest = hashlib.blake2b(name.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
        return self.directory / digest[:2] / f"{digest[2:]}.json"

    # -- reading ------------------------------------------------------------
    def load(self, path: str, codes: frozenset[str], data: bytes) -> tuple[Diagnostic, ...] | None:
        """The cached findings for ``path`` with content ``data``, or None."""
        try:
            raw = self._entry_path(path, codes).read_bytes()
        except OSError:
            return None
        try:
            entry = json.loads(raw)
            if (
                entry["format"] != FORMAT
                or entry["digest"] != content_digest(data)
                or entry["path"] != os.path.abspath(path)
            ):
                return None
            return tuple(_diagnostic(path, item) for item in entry["diagnostics"])
        except (ValueError, KeyError, TypeError, IndexError):
            return None  # corrupted, truncated or foreign: recomputed and rewritten

    # -- writing ------------------------------------------------------------
    def store(self, path: str, codes: frozenset[str], data: bytes, diagnostics: Iterable[Diagnostic]) -> None:
        """Record the findings of ``path`` (best effort, atomic)."""
        diagnostics = tuple(diagnostics)
        if any(d.code in _UNCACHED_CODES for d in diagnostics):
            return
        entry = {
            "format": FORMAT,
            "path": os.path.abspath(path),
            "digest": content_digest(data),
            "diagnostics": [
                [d.line, d.column, d.code, d.message, d.end_line, d.end_column, d.name, d.family.value]
                for d in diagnostics
            ],
        }
        target = self._entry_path(path, codes)
        try:
            self._prepare(target.parent)
            write_atomic(target, json.dumps(entry, separators=(",", ":")).encode())
        except OSError:
            pass  # read-only tree, full disk: run uncached

    def _prepare(self, directory: Path) -> None:
        if not self._ready:
            top = self.directory.parent
            top.mkdir(parents=True, exist_ok=True)
            ignore = top / ".gitignore"
            if not ignore.exists():
                # The cache ignores itself, so no project has to list it.
                write_atomic(ignore, b"# created by memlint\n*\n")
            self._ready = True
        directory.mkdir(parents=True, exist_ok=True)


def _diagnostic(path: str, item: list[Any]) -> Diagnostic:
    line, column, code, message, end_line, end_column, name, family = item
    for number in (line, column, end_line, end_column):
        if type(number) is not int:
            raise TypeError("bad position")
    for text in (code, message, name):
        if type(text) is not str:
            raise TypeError("bad text")
    return Diagnostic(path, line, column, code, message, end_line, end_column, name, Family(family))

