"""Once-only guards: code under ``if not _done: ...; _done = True`` runs once per process."""

from __future__ import annotations

import libcst as cst

from memlint.tree.names import dotted_name
from memlint.tree.walk import Path, children, iter_nodes


def enclosing_ifs(root: cst.CSTNode, target: cst.CSTNode, parents: Path | None = None) -> list[cst.If]:
    """The ``if`` statements of ``root`` (outermost first) whose body holds ``target``.

    ``parents`` are ``target``'s ancestors, the module first, when the rule
    recorded them during the walk (``where.parents``); without them ``root``
    is searched for ``target``.
    """
    if parents is None:
        path = _path_to(root, target)
    else:
        index = next((i for i, node in enumerate(parents) if node is root), None)
        path = [] if index is None else [*parents[index + 1:], target]
    ifs = []
    for index, node in enumerate(path):
        if isinstance(node, cst.If) and index + 1 < len(path) and path[index + 1] is not node.test:
            ifs.append(node)
    return ifs


def _path_to(root: cst.CSTNode, target: cst.CSTNode) -> list[cst.CSTNode]:
    """The nodes from ``root`` (excluded) down to ``target`` (included); empty
    when ``target`` is not under ``root``."""
    path: list[cst.CSTNode] = []

    def search(node: cst.CSTNode) -> bool:
        if node is target:
            return True
        for child in children(node):
            path.append(child)
            if search(child):
                return True
            path.pop()
        return False

    return path if search(root) else []


def _flag_names(test: cst.BaseExpression) -> set[str]:
    """Names and attribute names a condition reads (``_ready``, ``cls._registered``)."""
    found: set[str] = set()
    for node in (test, *iter_nodes(test)):
        if isinstance(node, cst.Attribute):
            found.add(node.attr.value)
        elif isinstance(node, cst.Name):
            found.add(node.value)
    return found


def _assigned_names(function: cst.CSTNode) -> set[str]:
    found: set[str] = set()
    for node in iter_nodes(function, into_functions=False):
        if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for target in targets:
                name = dotted_name(target)
                if name is not None:
                    found.add(name.rsplit(".", 1)[-1])
    return found


def runs_once(function: cst.FunctionDef, target: cst.CSTNode, parents: Path | None = None,
              per_instance: bool = False) -> bool:
    """``target`` runs behind a flag that ``function`` itself sets: lazy
    one-time initialisation, not per call. Two shapes: under ``if not
    _ready:`` / ``if cls._ready is None:``, or after an early exit
    ``if self._started: return``.

    Local variables set in the function do not count: only names the function
    declares ``global``/``nonlocal`` or attributes (``cls._ready``) persist.
    ``self.`` attributes count only when ``per_instance``: the flag then makes
    the code run once per instance (once per process on a single instance).
    ``parents``: as for ``enclosing_ifs``.
    """
    persistent = set()
    for node in iter_nodes(function.body, into_functions=False):
        if isinstance(node, (cst.Global, cst.Nonlocal)):
            persistent.update(item.name.value for item in node.names)
    assigned = _assigned_names(function.body)
    attributes = {
        dotted_name(t).rsplit(".", 1)[-1]  # type: ignore[union-attr]
        for node in iter_nodes(function.body, into_functions=False)
        if isinstance(node, cst.Assign)
        for t in (x.target for x in node.targets)
        if isinstance(t, cst.Attribute) and dotted_name(t) is not None
        # `self.flag` is per instance: only class or module attributes persist.
        and (per_instance or not dotted_name(t).startswith("self."))  # type: ignore[union-attr]
    }
    persistent |= attributes
    flags = assigned & persistent
    if not flags:
        return False
    guards = [*enclosing_ifs(function.body, target, parents), *_early_exits(function, target)]
    return any(_flag_names(statement.test) & flags for statement in guards)


def _early_exits(function: cst.FunctionDef, target: cst.CSTNode) -> list[cst.If]:
    """``if ...: return`` statements of the function's own body that come
    before the statement holding ``target``."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    exits = []
    for statement in body:
        if statement is target or any(node is target for node in iter_nodes(statement)):
            return exits
        if isinstance(statement, cst.If) and statement.orelse is None and _only_leaves(statement.body):
            exits.append(statement)
    return []


def _only_leaves(body: cst.BaseSuite) -> bool:
    statements = body.body if isinstance(body, cst.IndentedBlock) else (body,)
    return len(statements) == 1 and isinstance(statements[0], cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Return, cst.Raise)) for small in statements[0].body
    )


def fills_when_empty(function: cst.FunctionDef, target: cst.CSTNode, container: str,
                     parents: Path | None = None) -> bool:
    """``target`` runs only while ``container`` is empty (``if not cache:``,
    ``if len(cache) == 0:``): a one-time fill, not growth per call.
    ``parents``: as for ``enclosing_ifs``."""
    for statement in enclosing_ifs(function.body, target, parents):
        test = statement.test
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            operand = test.expression
            if isinstance(operand, cst.Call) and isinstance(operand.func, cst.Name) and operand.func.value == "len" \
                    and operand.args:
                operand = operand.args[0].value
            if dotted_name(operand) == container:
                return True
        if isinstance(test, cst.Comparison) and isinstance(test.left, cst.Call) and len(test.comparisons) == 1:
            call, comparison = test.left, test.comparisons[0]
            if isinstance(call.func, cst.Name) and call.func.value == "len" and call.args \
                    and dotted_name(call.args[0].value) == container \
                    and isinstance(comparison.operator, cst.Equal) \
                    and isinstance(comparison.comparator, cst.Integer) and comparison.comparator.value == "0":
                return True
    return False


def never_runs(function: cst.FunctionDef, target: cst.CSTNode, parents: Path | None = None) -> bool:
    """``target`` sits under ``if 0:`` / ``if False:`` (debugging code left disabled).
    ``parents``: as for ``enclosing_ifs``."""
    for statement in enclosing_ifs(function.body, target, parents):
        test = statement.test
        if (isinstance(test, cst.Name) and test.value == "False") or (
            isinstance(test, cst.Integer) and test.value == "0"
        ):
            return True
    return False
