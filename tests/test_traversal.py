"""memlint's read-only walk sees exactly what libcst's visitors see: the same
children of every node, in the same order, with the same visit/leave calls."""

from __future__ import annotations

import sys
from pathlib import Path

import libcst as cst
import pytest

from memlint.tree import walk as traversal

ROOT = Path(__file__).resolve().parent.parent
# Real code of many shapes: the fixtures (every rule's cases), memlint's own
# source, the bundled example, and a few large standard-library modules.
# The blind probe (fixtures/probe) adds two hundred small files and no syntax the rest lacks.
SOURCES = sorted(
    [*(p for p in (ROOT / "fixtures").rglob("*.py") if "probe" not in p.parts),
     *(ROOT / "memlint").rglob("*.py"), *(ROOT / "examples").rglob("*.py")]
)
STDLIB = [Path(module.__file__) for module in (__import__("typing"), __import__("argparse"), __import__("dataclasses"))
          if module.__file__]
# Syntax the files above may not have: every statement and expression form.
EVERY_FORM = '''
import a.b as c
from . import (x as y, z)
from .m import *
@dec(1)
async def f(a, /, b: int = 2, *args, c, d=3, **kw) -> "T":
    global g
    x: list[int] = [i async for i in y if i]
    async with a as (b, c), d:
        await e
    async for i in j:
        yield from k
    else:
        pass
    lambda q, *r, s=1, **t: (yield)
    return {**m, 1: 2}, {1, *s}, (*t,), f"{a!r:>{w}} {b=}", rb'\\x00', ...
class C(B, metaclass=M):
    def g(self): nonlocal_thing = self[1:2, ::3]; del self.x[0]
try:
    pass
except* (E, F) as e:
    raise G from e
finally:
    x += 1; y @= 2
while (n := next(it)) is not None and not x or y < z <= w in v:
    break
match p:
    case [1, 2, *rest] | {"k": v, **kw} if rest:
        pass
    case Point(x=0, y=_) as pt:
        continue
type Alias[T: int, *Ts, **P] = list[T]
def generic[T](x: T) -> T: return x if x else -x
with (open(a) as b, open(c) as d): assert b, "m"
print(*args, sep="", **kw); x = y = z[...] = ~a ** -b
'''


def _modules() -> list[tuple[str, cst.Module]]:
    modules = [(path.name, cst.parse_module(path.read_bytes())) for path in [*SOURCES, *STDLIB]]
    modules.append(("every-form", cst.parse_module(EVERY_FORM)))
    return modules


MODULES = _modules()


def _all_nodes(module: cst.Module) -> list[cst.CSTNode]:
    nodes: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.children)
    return nodes


@pytest.mark.parametrize(("name", "module"), MODULES, ids=[name for name, _ in MODULES])
def test_children_match_libcst_node_by_node(name: str, module: cst.Module) -> None:
    for node in _all_nodes(module):
        ours = list(traversal.children(node))
        theirs = list(node.children)
        assert len(ours) == len(theirs) and all(a is b for a, b in zip(ours, theirs)), (
            f"{type(node).__name__}: {[type(c).__name__ for c in ours]} != {[type(c).__name__ for c in theirs]}"
        )


class _Recorder(cst.CSTVisitor):
    def __init__(self, prune: type[cst.CSTNode] | None = None) -> None:
        super().__init__()
        self.events: list[tuple[str, int]] = []
        self.prune = prune

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(("visit", id(node)))
        return self.prune is None or not isinstance(node, self.prune)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.events.append(("leave", id(original_node)))


@pytest.mark.parametrize("prune", [None, cst.FunctionDef], ids=["full", "pruned"])
def test_visit_calls_match_libcst(prune: type[cst.CSTNode] | None) -> None:
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 10_000))
    try:
        for _, module in MODULES:
            ours, theirs = _Recorder(prune), _Recorder(prune)
            traversal.visit(module, ours)
            module.visit(theirs)
            assert ours.events == theirs.events
    finally:
        sys.setrecursionlimit(old)


def test_every_node_type_has_its_fields_read_from_libcst() -> None:
    """The fallback to libcst's slower ``children`` is for installs without
    sources; on this one no node type should need it."""
    kinds = {type(node) for _, module in MODULES for node in _all_nodes(module)}
    assert len(kinds) > 100
    assert [kind.__name__ for kind in kinds if traversal.child_fields(kind) is None] == []
