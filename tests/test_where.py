"""The engine's "where am I" API (memlint.tree.where), as rules see it during the walk."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import libcst as cst

from memlint.diagnostic import Family
from memlint.engine import LintSettings, lint_source
from memlint.rule import FileContext, Rule
from memlint.tree.walk import find_paths

SOURCE = '''\
def outer():
    class Inner:
        def method(self):
            return lambda: helper()
    return Inner

class Top:
    x = build()
    def run(self):
        go()

call_at_module()
'''


class Probe(Rule):
    """Records what ``where`` says at every call and definition."""

    code = "MEM999"
    name = "probe"
    family = Family.LEAK
    message = "probe"
    seen: ClassVar[list[tuple[str, str | None, str | None, tuple[str, ...], bool]]] = []
    paths: ClassVar[list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]]] = []

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        Probe.seen.clear()
        Probe.paths.clear()

    def _record(self, label: str) -> None:
        where = self.context.where
        function = where.function.name.value if where.function else None
        cls = where.cls.name.value if where.cls else None
        chain = tuple(d.name.value for d in where.definitions())
        Probe.seen.append((label, function, cls, chain, where.at_module_level))

    def visit_Call(self, node: cst.Call) -> None:
        assert self.context.where.node is node
        self._record(cst.Module([]).code_for_node(node.func))
        Probe.paths.append((node, self.context.where.parents))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._record(f"def {node.name.value}")

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._record(f"end class {original_node.name.value}")


def test_where_during_the_walk() -> None:
    assert lint_source(SOURCE, "probe.py", LintSettings(rules=(Probe,))) == []
    assert Probe.seen == [
        ("def outer", "outer", None, ("outer",), False),
        ("def method", "method", "Inner", ("outer", "Inner", "method"), False),
        # inside the lambda: the lambda is a scope, not a definition
        ("helper", "method", "Inner", ("outer", "Inner", "method"), False),
        ("end class Inner", "outer", "Inner", ("outer", "Inner"), False),
        ("build", None, "Top", ("Top",), False),
        ("def run", "run", "Top", ("Top", "run"), False),
        ("go", "run", "Top", ("Top", "run"), False),
        ("end class Top", None, "Top", ("Top",), False),
        ("call_at_module", None, None, (), True),
    ]


def test_parents_are_the_ancestors_of_the_node() -> None:
    """``where.parents`` equals a separate walk's path to the same node, on real code."""
    source = Path(cst.__file__).with_name("_nodes").joinpath("statement.py").read_text(encoding="utf-8")
    lint_source(source, "statement.py", LintSettings(rules=(Probe,), prefilter=False))
    assert len(Probe.paths) > 100
    module = Probe.paths[0][1][0]
    wanted = {id(node) for node, _ in Probe.paths}
    expected = {id(node): path for node, path in find_paths(module, lambda n: id(n) in wanted)}
    for node, parents in Probe.paths:
        assert parents == expected[id(node)]
