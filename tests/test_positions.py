"""Positions computed per statement equal libcst's PositionProvider over the
whole module, for every node of real files and of awkward layouts."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from memlint.positions import positions, statement_lines

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*(ROOT / "fixtures").rglob("*.py"), *(ROOT / "memlint").rglob("*.py"), *(ROOT / "rules").glob("*.py")])
STDLIB = [Path(module.__file__) for module in (__import__("typing"), __import__("argparse"), __import__("tokenize"))
          if module.__file__]
LAYOUTS = {
    "comments-and-blank-lines": "# header\n\n#!x\n\nimport os\n\n\n# lead\n# lead 2\nx = 1; y = 2;\n",
    "decorators-with-comments": "@a\n# between\n@b(\n    1,\n)\n\nclass C:\n    # inside\n    def f(self): pass\n    # footer\n\n# after\ndef g(): return 1\n",
    "continuations": "x = (1 +\n     2)\ny = \\\n    3\ns = '''a\nb\n'''\nz = f'{x}\\n'\n",
    "crlf": "import os\r\n\r\n# c\r\ndef f():\r\n    return os\r\n",
    "async-and-compound": "async def f():\n    async with a:\n        pass\nif x:\n    pass\nelif y:\n    pass\nelse:\n    pass\ntry:\n    pass\nexcept E:\n    pass\n",
    "no-trailing-newline": "x = 1\ny = 2",
    "form-feed-and-tabs": "x = 1\n\x0c\nif x:\n\ty = 2\n",
}


def _check(source: str | bytes) -> None:
    module = cst.parse_module(source)
    text = source.decode("utf-8") if isinstance(source, bytes) else source
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    # Every node inside a statement (the module, its header and footer
    # would send the whole file to the fallback, proving nothing).
    nodes = [node for statement in module.body for node in _subtree(statement)]
    got = positions(module, nodes, statement_lines(ast.parse(text)))
    assert module not in got, "the per-statement pass was not used"
    wrong = [(type(n).__name__, got.get(n), expected[n]) for n in nodes if got.get(n) != expected[n]]
    assert not wrong, wrong[:5]


def _subtree(root: cst.CSTNode) -> list[cst.CSTNode]:
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.children)
    return found


@pytest.mark.parametrize("path", [*FILES, *STDLIB], ids=[p.name for p in [*FILES, *STDLIB]])
def test_positions_match_the_whole_module_provider(path: Path) -> None:
    _check(path.read_bytes())


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_positions_match_on_awkward_layouts(name: str) -> None:
    _check(LAYOUTS[name])


def test_without_cpython_lines_the_whole_module_is_used() -> None:
    module = cst.parse_module("x = 1\ny = [2]\n")
    node = module.body[1]
    assert positions(module, [node], None)[node].start.line == 2


def test_statements_that_do_not_pair_up_fall_back() -> None:
    module = cst.parse_module("x = 1\ny = 2\n")
    node = module.body[1]
    # One line too few or too many: the per-statement pass is not trusted.
    assert positions(module, [node], [1])[node].start.line == 2
    assert positions(module, [node], [1, 2, 3])[node].start.line == 2
