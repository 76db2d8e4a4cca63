"""The import graph points down only: rules -> analysis -> tree.

- ``memlint.tree`` (walking trees, node shapes, name resolution) imports
  nothing of memlint above it;
- ``memlint.analysis`` holds facts shared across rule families: it may use
  the tree, never the rule contract (``memlint.rule``) or a rule;
- a rule family (``memlint.rules.leak``, ...) may use the tree, the analyses,
  the rule contract and its own family's ``_``-modules, never another family;
- the engine, runner, reporters and front-ends never import a rule (the
  registry finds them by name), and the engine and the reporters take
  ``FileResult`` and the run codes from ``memlint.diagnostic``, not from the
  runner or the registry.

Every ``import`` statement counts, also those inside functions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What a rule family may import besides itself.
RULE_CONTRACT = ("memlint.rule", "memlint.options", "memlint.diagnostic", "memlint.analysis", "memlint.tree")


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[0] == "rules":  # installed as memlint.rules
        parts.insert(0, "memlint")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def memlint_imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import of memlint's own code."""
    package = module_name(path)
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                drop = node.level - 1 if is_package else node.level
                base = ".".join(parent[: len(parent) - drop] + ([base] if base else []))
            for alias in node.names:
                # `from memlint.tree import walk` imports memlint.tree.walk.
                yield node.lineno, f"{base}.{alias.name}" if base in ("memlint", "memlint.tree", "memlint.analysis") else base


def within(module: str, *prefixes: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def violation(importer: str, imported: str) -> str | None:
    """Why ``importer`` may not import ``imported`` (None: allowed)."""
    if not within(imported, "memlint"):
        return None
    if within(importer, "memlint.tree"):
        return None if within(imported, "memlint.tree") else "the tree layer imports only itself"
    if within(importer, "memlint.analysis"):
        if within(imported, "memlint.tree", "memlint.analysis"):
            return None
        return "analysis imports only the tree and other analyses"
    if within(importer, "memlint.rules"):
        parts = importer.split(".")
        if len(parts) < 3:
            return None if imported == "memlint.rules" else "the rules package imports no rule"
        family = ".".join(parts[:3])
        if within(imported, family, *RULE_CONTRACT):
            return None
        return f"a rule of {family} imports only its family, the analyses, the tree and the rule contract"
    if within(imported, "memlint.rules"):
        return "core code finds rules through the registry, never by import"
    if within(importer, "memlint.engine", "memlint.report") and within(imported, "memlint.runner"):
        return "the engine and the reporters take FileResult from memlint.diagnostic"
    if within(importer, "memlint.engine") and within(imported, "memlint.registry"):
        return "the engine takes the run codes from memlint.diagnostic"
    return None


def sources() -> list[Path]:
    return sorted([*(ROOT / "memlint").rglob("*.py"), *(ROOT / "rules").rglob("*.py")])


def test_sources_found() -> None:
    names = {module_name(path) for path in sources()}
    assert {"memlint.engine", "memlint.tree.walk", "memlint.analysis.loops", "memlint.rules.resource.unclosed_file"} <= names


def test_imports_point_down() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {module_name(path)} imports {imported}: {why}"
        for path in sources()
        for line, imported in memlint_imports(path)
        if (why := violation(module_name(path), imported)) is not None
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("importer", "imported"), [
    ("memlint.tree.walk", "memlint.analysis.loops"),
    ("memlint.analysis.loops", "memlint.rule"),
    ("memlint.analysis.loops", "memlint.rules.lifecycle._handles"),
    ("memlint.rules.oom.whole_file_read", "memlint.rules.resource._base"),
    ("memlint.engine", "memlint.rules.leak.gc_disabled"),
    ("memlint.report.text", "memlint.runner"),
    ("memlint.engine", "memlint.registry"),
])
def test_checker_catches(importer: str, imported: str) -> None:
    assert violation(importer, imported) is not None


@pytest.mark.parametrize(("importer", "imported"), [
    ("memlint.rules.oom.whole_file_read", "memlint.rules.oom._files"),
    ("memlint.rules.oom.whole_file_read", "memlint.analysis.resources"),
    ("memlint.analysis.loops", "memlint.tree.walk"),
    ("memlint.report.sarif", "memlint.registry"),
])
def test_checker_allows(importer: str, imported: str) -> None:
    assert violation(importer, imported) is None
