"""Line and column of the nodes a file's findings point at.

libcst's PositionProvider regenerates the code of the whole module to count
lines and columns: on a large file it costs about half a parse, and it was
the largest cost of linting a file with findings. Here only the top-level
statements that hold a reported node are regenerated, each starting at the
line where it begins in the file. Those lines come from CPython's own parse
of the file (the engine's syntax screen), which gives the first line of
every top-level statement; a statement's blank and comment lines before it
(its ``leading_lines``) are one line each.

The positions are PositionProvider's, node for node (tests/test_positions.py
compares every node of real files); when CPython's tree is not available
(syntax newer than the running interpreter) or does not line up with
libcst's, the whole-module provider is used.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping, Sequence
from typing import cast

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

from memlint.tree.walk import iter_nodes


def statement_lines(tree: ast.AST) -> list[int]:
    """The first line of each top-level statement of CPython's tree
    (a decorated definition starts at its first decorator)."""
    lines = []
    for statement in getattr(tree, "body", ()):
        decorators = getattr(statement, "decorator_list", None)
        lines.append(min(statement.lineno, *(d.lineno for d in decorators)) if decorators else statement.lineno)
    return lines


def positions(module: cst.Module, nodes: Collection[cst.CSTNode],
              first_lines: Sequence[int] | None) -> Mapping[cst.CSTNode, CodeRange]:
    """Positions of (at least) ``nodes``, as PositionProvider gives them."""
    if first_lines is not None:
        starts = _statement_starts(module, first_lines)
        if starts is not None:
            try:
                found = _by_statement(module, nodes, starts)
            except (AttributeError, TypeError):  # pragma: no cover - libcst internals changed
                found = None
            if found is not None:
                return found
    return whole_module(module)


def whole_module(module: cst.Module) -> Mapping[cst.CSTNode, CodeRange]:
    """PositionProvider over the whole module. Its own pass is run directly:
    ``MetadataWrapper.resolve`` would first walk the whole tree for the
    batchable providers even when there are none."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    try:
        return cast(Mapping[cst.CSTNode, CodeRange], PositionProvider()._gen(wrapper))
    except (AttributeError, TypeError):  # pragma: no cover - libcst internals changed
        return wrapper.resolve(PositionProvider)


def _statement_starts(module: cst.Module, first_lines: Sequence[int]) -> list[int] | None:
    """The line where the code of each of ``module.body`` begins, leading
    lines included; None when libcst's statements and CPython's do not pair
    up (a ``SimpleStatementLine`` is one CPython statement per ``;`` part)."""
    starts = []
    index = 0
    for statement in module.body:
        if index >= len(first_lines):
            return None
        starts.append(first_lines[index] - len(statement.leading_lines))
        index += len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
    return starts if index == len(first_lines) else None


def _by_statement(module: cst.Module, nodes: Collection[cst.CSTNode],
                  starts: Sequence[int]) -> Mapping[cst.CSTNode, CodeRange] | None:
    wanted = {id(node) for node in nodes}
    provider = PositionProvider()
    provider._computed = {}
    for statement, start in zip(module.body, starts):
        if not wanted:
            break
        inside = _holds(statement, wanted)
        if not inside:
            continue
        wanted -= inside
        state = PositionProvidingCodegenState(
            default_indent=module.default_indent, default_newline=module.default_newline,
            provider=provider, line=start,
        )
        statement._codegen(state)
    # A node outside every statement (the module itself, its header or
    # footer comments) needs the whole-module pass.
    return None if wanted else cast(Mapping[cst.CSTNode, CodeRange], provider._computed)


def _holds(root: cst.CSTNode, wanted: set[int]) -> set[int]:
    """The ids of ``wanted`` found in ``root``'s subtree."""
    return {id(node) for node in iter_nodes(root, include_self=True) if id(node) in wanted}
