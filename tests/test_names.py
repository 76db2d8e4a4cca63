"""Import and alias resolution as rules see it."""

from __future__ import annotations

import libcst as cst
import pytest

from memlint.tree.names import NameTracker


def _resolve_calls(source: str) -> list[str | None]:
    """Qualified name of every call, resolved at its point of the walk."""
    module = cst.parse_module(source)
    tracker = NameTracker(module)
    found: list[str | None] = []

    class Walk(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            tracker.on_visit(node)
            if isinstance(node, cst.Call):
                found.append(tracker.call_name(node))
            return True

        def on_leave(self, original_node: cst.CSTNode) -> None:
            tracker.on_leave(original_node)

    module.visit(Walk())
    return found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("open(p)", "builtins.open"),
        ("import io as _io\n_io.open(p)", "io.open"),
        ("from tempfile import NamedTemporaryFile as T\nT()", "tempfile.NamedTemporaryFile"),
        ("import concurrent.futures\nconcurrent.futures.ThreadPoolExecutor()", "concurrent.futures.ThreadPoolExecutor"),
        ("import concurrent.futures as cf\ncf.ThreadPoolExecutor()", "concurrent.futures.ThreadPoolExecutor"),
        ("from pathlib import Path\nPath(p).open()", "pathlib.Path().open"),
        ("from . import util\nutil.run()", ".util.run"),
        ("def f():\n    from subprocess import Popen\n    Popen(x)", "subprocess.Popen"),
        ("def f():\n    import gzip\ndef g():\n    gzip.open(p)", None),
        ("def f(open):\n    open(p)", None),
        ("def open(p):\n    pass\nopen(p)", None),
        ("def f():\n    open(p)\nimport io\nopen = io.open", None),
        ("class C:\n    import os\n    def m(self):\n        os.fdopen(1)", None),
        ("from os import *\nfdopen(1)", None),
    ],
)
def test_outermost_call_resolution(source: str, expected: str | None) -> None:
    assert _resolve_calls(source)[0] == expected


def test_lambda_parameters_shadow() -> None:
    assert _resolve_calls("f = lambda open: open(p)") == ["builtins.lambda" if False else None]
