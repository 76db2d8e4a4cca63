"""Finding fingerprints that survive line shifts, and baselines built on them."""

from __future__ import annotations

import hashlib
import io
import json
import tokenize
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from memlint.atomic import write_atomic
from memlint.config import relative_posix
from memlint.diagnostic import Diagnostic, Family
from memlint.diagnostic import FileResult

FORMAT: Final = "memlint-baseline"
VERSION: Final = 1
_SKIP_TOKENS: Final = frozenset({
    tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER,
})


class BaselineError(Exception):
    """A baseline file that cannot be read or is not a memlint baseline."""


# -- fingerprints (shared with SARIF's partialFingerprints) ----------------
def normalise_line(text: str) -> str:
    """The line's tokens without comments or layout: re-indenting, re-spacing
    or commenting the line keeps its fingerprint."""
    tokens: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text.strip()).readline):
            if token.type not in _SKIP_TOKENS:
                tokens.append(token.string)
    except (tokenize.TokenError, SyntaxError):
        # A line inside a multi-line string or bracket: keep what tokenized,
        # else fall back to collapsing whitespace.
        if not tokens:
            return " ".join(text.split())
    return " ".join(tokens)


def fingerprint(code: str, path: str, line_text: str, occurrence: int) -> str:
    """code + path + normalised line + index among findings with the same three."""
    key = "\0".join((code, path, normalise_line(line_text), str(occurrence)))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def fingerprints(diagnostics: Sequence[Diagnostic], path: str, lines: Sequence[str]) -> list[str]:
    """Fingerprints of one file's findings (in position order), ``path`` as
    it should be keyed and ``lines`` the file's text."""
    seen: Counter[tuple[str, str]] = Counter()
    out: list[str] = []
    for d in diagnostics:
        text = lines[d.line - 1] if 0 < d.line <= len(lines) else ""
        key = (d.code, normalise_line(text))
        out.append(fingerprint(d.code, path, text, seen[key]))
        seen[key] += 1
    return out


def read_lines(path: str) -> list[str]:
    """The file's lines as the engine decoded them; [] if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding).splitlines()
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
        return []


def result_fingerprints(result: FileResult, root: Path) -> list[str]:
    """Fingerprints of a file result, paths keyed relative to ``root``."""
    if not result.diagnostics:
        return []
    return fingerprints(result.diagnostics, relative_posix(Path(result.path), root), read_lines(result.path))


def _recordable(d: Diagnostic) -> bool:
    # A file memlint could not check is not debt to accept: never baselined.
    return d.family is not Family.RUN


# -- writing ----------------------------------------------------------------
@dataclass(slots=True)
class BaselineWriter:
    """Collects a run's findings; ``write`` replaces the file atomically."""

    root: Path
    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, result: FileResult) -> None:
        path = relative_posix(Path(result.path), self.root)
        for d, fp in zip(result.diagnostics, result_fingerprints(result, self.root)):
            if _recordable(d):
                self.entries.append({"path": path, "line": d.line, "code": d.code, "fingerprint": fp})

    def write(self, target: str) -> int:
        entries = sorted(self.entries, key=lambda e: (e["path"], e["line"], e["code"], e["fingerprint"]))
        # One finding per line: reviewable, and diffs stay small.
        body = ",\n".join("  " + json.dumps(entry) for entry in entries)
        text = f'{{"{FORMAT}": {VERSION}, "findings": [\n{body}\n]}}\n' if entries else f'{{"{FORMAT}": {VERSION}, "findings": []}}\n'
        try:
            write_atomic(Path(target), text)
        except OSError as exc:
            raise BaselineError(f"cannot write baseline {target}: {exc.strerror or exc}") from None
        return len(entries)


# -- reading and filtering ----------------------------------------------------
@dataclass(slots=True)
class Baseline:
    """Known findings by fingerprint; ``filter`` drops them from results."""

    root: Path
    known: Counter[str]
    paths: dict[str, str]  # fingerprint -> path, to count fixed entries of checked files
    matched: int = 0
    checked_paths: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, source: str, root: Path) -> Baseline:
        try:
            with open(source, encoding="utf-8") as handle:
                document = json.load(handle)
        except OSError as exc:
            raise BaselineError(f"baseline {source}: cannot read: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BaselineError(f"baseline {source}: not valid JSON: {exc}") from None
        entries = _validate(document, source)
        return cls(root, Counter(e["fingerprint"] for e in entries), {e["fingerprint"]: e["path"] for e in entries})

    def filter(self, result: FileResult) -> FileResult:
        """The result without its baselined findings (each entry absorbs one)."""
        self.checked_paths.add(relative_posix(Path(result.path), self.root))
        if not result.diagnostics:
            return result
        kept: list[Diagnostic] = []
        for d, fp in zip(result.diagnostics, result_fingerprints(result, self.root)):
            if _recordable(d) and self.known[fp] > 0:
                self.known[fp] -= 1
                self.matched += 1
            else:
                kept.append(d)
        return replace(result, diagnostics=tuple(kept))

    def fixed(self) -> int:
        """Baselined findings of the files checked in this run that no longer occur."""
        return sum(n for fp, n in self.known.items() if n > 0 and self.paths[fp] in self.checked_paths)


def _validate(document: object, source: str) -> list[dict[str, Any]]:
    def bad(why: str) -> BaselineError:
        return BaselineError(f"baseline {source}: not a memlint baseline: {why}")

    if not isinstance(document, dict) or FORMAT not in document:
        raise bad(f"expected a JSON object with \"{FORMAT}\": {VERSION}")
    if document[FORMAT] != VERSION:
        raise bad(f"unsupported version {document[FORMAT]!r} (this memlint reads version {VERSION})")
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise bad("\"findings\" must be a list")
    for number, entry in enumerate(entries):
        if not (isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str) and isinstance(entry.get("path"), str)):
            raise bad(f"findings[{number}] needs string \"path\" and \"fingerprint\"")
    return entries
