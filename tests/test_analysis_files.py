"""Shared OOM analyses: scope bindings, file/path facts, constant allocation sizes."""

from __future__ import annotations

import libcst as cst
import pytest

from memlint.rules.oom._scoped import ScopeBindings
from memlint.analysis.constants import allocation_bytes, evaluate_int, module_constants
from memlint.rules.oom._files import FileFacts, whole_read
from memlint.tree.names import NameTracker


def _function(code: str) -> tuple[cst.Module, cst.FunctionDef, NameTracker]:
    """Parse ``code`` and replay the engine's walk so the tracker knows every scope."""
    module = cst.parse_module(code)
    names = NameTracker(module)

    class Replay(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            names.on_visit(node)
            return True

        def on_leave(self, original_node: cst.CSTNode) -> None:
            names.on_leave(original_node)

    module.visit(Replay())
    function = next(s for s in module.body if isinstance(s, cst.FunctionDef))
    return module, function, names


def _name(function: cst.FunctionDef, value: str) -> cst.Name:
    found: list[cst.Name] = []

    class Find(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            if node.value == value:
                found.append(node)

    function.body.visit(Find())
    return found[-1]


FILE_CODE = '''
import sys
from pathlib import Path
from typing import TextIO

def f(stream: TextIO, other, root: Path):
    with open("a") as a:
        pass
    b = open("b")
    c = a if other else b
    s = sys.stdin
    d = Path("x") / "y"
    for p in root.glob("*.txt"):
        pass
    e = other.makefile()
    g = open("g")
    g = other
    h = d.open()
    use(a, b, c, s, d, p, e, g, h, stream, other, root)
'''


@pytest.mark.parametrize(("name", "is_file"), [
    ("a", True), ("b", True), ("c", True), ("s", True), ("e", False), ("g", False), ("h", True),
    ("stream", True), ("other", False),
])
def test_is_file(name: str, is_file: bool) -> None:
    _, function, names = _function(FILE_CODE)
    facts = FileFacts(function, names)
    assert facts.is_file(_name(function, name)) is is_file


@pytest.mark.parametrize(("name", "is_path"), [("d", True), ("p", True), ("root", True), ("other", False), ("b", False)])
def test_is_path(name: str, is_path: bool) -> None:
    _, function, names = _function(FILE_CODE)
    facts = FileFacts(function, names)
    assert facts.is_path(_name(function, name)) is is_path


def test_whole_read_sizes() -> None:
    code = "def f():\n    with open('x') as f:\n        f.read(); f.read(10); f.read(-1); f.readlines(); f.read(size=None)\n"
    _, function, names = _function(code)
    facts = FileFacts(function, names)
    calls: list[cst.Call] = []

    class Calls(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Attribute):
                calls.append(node)

    function.body.visit(Calls())
    assert [whole_read(c, facts) for c in calls] == ["read", None, "read", "readlines", "read"]


def test_only_iterated() -> None:
    code = "def f(x):\n    a = x()\n    for i in a: pass\n    b = x()\n    for j in b: pass\n    return b\n"
    _, function, _ = _function(code)
    index = ScopeBindings(function)
    assign_a, _, assign_b = function.body.body[0], None, function.body.body[2]
    a_value = assign_a.body[0].value  # type: ignore[attr-defined]
    b_value = assign_b.body[0].value  # type: ignore[attr-defined]
    assert len(index.only_iterated(a_value)) == 1
    assert index.only_iterated(b_value) == []


def test_runs_repeatedly() -> None:
    code = (
        "def f(x, ys):\n"
        "    a = x()\n"
        "    for i in a: pass\n"
        "    for y in ys:\n"
        "        for j in a: pass\n"
        "        b = x()\n"
        "        for k in b: pass\n"
        "    c = [[m for m in a] for y in ys]\n"
        "    d = [(y, n) for y in ys for n in a]\n"
        "    e = [p for p in a if p]\n"
    )
    _, function, _ = _function(code)
    index = ScopeBindings(function)
    assign_a = function.body.body[0]
    loops = {
        node.target.value: node  # type: ignore[attr-defined]
        for name in ("a", "b")
        for use in index.uses[name]
        for node in [index.iteration_loop(use)]
        if node is not None
    }
    assign_b = index.bindings["b"][0].node
    assert not index.runs_repeatedly(loops["i"], assign_a)
    assert index.runs_repeatedly(loops["j"], assign_a)
    assert not index.runs_repeatedly(loops["k"], assign_b)
    assert index.runs_repeatedly(loops["m"], assign_a)
    assert index.runs_repeatedly(loops["n"], assign_a)
    assert not index.runs_repeatedly(loops["p"], assign_a)


@pytest.mark.parametrize(("expr", "size"), [
    ("bytearray(1 << 30)", 1 << 30),
    ("[0] * 10", 80),
    ("b'ab' * 3", 6),
    ("'\u20ac' * 4", 8),
    ("list(range(10))", 360),
    ("[0 for _ in range(10)]", 80),
    ("numpy.zeros((10, 10), dtype='int32')", 400),
    ("numpy.full(5, 1.0)", 40),
    ("array.array('i', range(10))", 40),
    ("range(10)", None),
    ("bytearray(n)", None),
])
def test_allocation_bytes(expr: str, size: int | None) -> None:
    node = cst.parse_expression(expr)
    names = NameTracker(cst.parse_module("import numpy, array\n"))
    estimate = allocation_bytes(node, names.qualified_name)
    assert (estimate[0] if estimate else None) == size


def test_module_constants() -> None:
    module = cst.parse_module("A = 1 << 10\nB = A * 4\nC = 1\nC = 2\nif x:\n    D = 3\nD = 4\n")
    assert module_constants(module) == {"A": 1024, "B": 4096}
    assert evaluate_int(cst.parse_expression("B // 2"), module_constants(module)) == 2048
