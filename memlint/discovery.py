"""Which files to check: recursive ``*.py`` discovery with exclusions and .gitignore."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec


@dataclass(frozen=True, slots=True)
class Found:
    """A file to check, or a path that could not be checked and why."""

    path: str
    problem: str | None = None  # None: check it
    fatal: bool = False  # a path the user named that does not exist


def _spec(patterns: list[str]) -> pathspec.PathSpec:
    return pathspec.GitIgnoreSpec.from_lines(patterns)


class Discovery:
    """Walks the given roots. Exclusions apply to what the walk finds, never
    to a path named on the command line (as in ruff and flake8)."""

    def __init__(self, exclude: list[str], root: Path, respect_gitignore: bool = True) -> None:
        self.exclude = _spec(exclude)
        self.root = root.resolve()
        self.respect_gitignore = respect_gitignore

    def files(self, paths: list[str]) -> Iterator[Found]:
        for given in paths:
            try:
                info = os.stat(given)
            except FileNotFoundError:
                yield Found(given, "no such file or directory", fatal=True)
                continue
            except OSError as exc:
                yield Found(given, f"cannot access: {exc.strerror or exc}", fatal=True)
                continue
            if stat.S_ISDIR(info.st_mode):
                yield from self._walk(os.path.normpath(given), self._gitignores_above(Path(given)))
            elif stat.S_ISREG(info.st_mode):
                yield Found(given)
            else:
                yield Found(given, "not a regular file (FIFO, socket or device): not opened")

    def _excluded(self, path: str, name: str) -> bool:
        """Excluded when the entry itself matches, not merely something above
        it: matched directories are pruned before the walk reaches their
        children, so a matching parent means the user named it explicitly."""
        relative = _relative(path, self.root)
        if not (self.exclude.match_file(name) or self.exclude.match_file(relative)):
            return False
        parent = relative.rpartition("/")[0]
        return not parent or not self.exclude.match_file(parent)

    def _gitignores_above(self, directory: Path) -> list[tuple[str, pathspec.PathSpec]]:
        """.gitignore files of the enclosing repository, from its top down to ``directory``."""
        if not self.respect_gitignore:
            return []
        directory = directory.resolve()
        chain = [directory, *directory.parents]
        top = next((d for d in chain if (d / ".git").exists()), None)
        if top is None:
            return []
        found = []
        for parent in reversed(chain[: chain.index(top) + 1]):
            if parent == directory:
                break  # the walk reads the directory's own .gitignore
            spec = _read_gitignore(parent)
            if spec is not None:
                found.append((str(parent), spec))
        return found

    def _walk(self, top: str, ignores: list[tuple[str, pathspec.PathSpec]]) -> Iterator[Found]:
        if self.respect_gitignore:
            own = _read_gitignore(Path(top))
            if own is not None:
                ignores = [*ignores, (os.path.abspath(top), own)]
        try:
            with os.scandir(top) as iterator:
                entries = sorted(iterator, key=lambda e: e.name)
        except OSError as exc:
            yield Found(top, f"cannot read directory: {exc.strerror or exc}")
            return
        for entry in entries:
            path = os.path.join(top, entry.name)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file(follow_symlinks=True)
            except OSError:
                continue
            if not is_dir and not (is_file and entry.name.endswith(".py")):
                continue  # before the pattern matching, which costs more than the walk
            if self._excluded(path, entry.name) or _gitignored(path, is_dir, ignores):
                continue
            if is_dir:
                yield from self._walk(path, ignores)
            else:
                yield Found(path)


def _read_gitignore(directory: Path) -> pathspec.PathSpec | None:
    try:
        text = (directory / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return _spec(text.splitlines())


def _gitignored(path: str, is_dir: bool, ignores: list[tuple[str, pathspec.PathSpec]]) -> bool:
    """Ignored when the entry itself is, not only a directory above it (a
    directory the user named is checked even inside an ignored tree, e.g. a
    Python installed under a git-managed ~/.pyenv)."""
    absolute = os.path.abspath(path)
    for base, spec in ignores:
        relative = os.path.relpath(absolute, base).replace(os.sep, "/")
        if spec.match_file(relative + ("/" if is_dir else "")):
            parent = relative.rpartition("/")[0]
            if not parent or not spec.match_file(parent + "/"):
                return True
    return False


def _relative(path: str, root: Path) -> str:
    try:
        return os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
    except ValueError:
        return path
