"""Unit tests of the resource family's lifetime analysis (rules/resource/_lifetime/)."""

from __future__ import annotations

import libcst as cst
import pytest

from memlint.rules.resource._lifetime.findings import Finding, Reason
from memlint.rules.resource._lifetime.states import HANDLED, State, Status, join
from memlint.rules.resource._lifetime.syntax import untracked_names
from memlint.rules.resource._ownership import class_forgets
from memlint.rules.resource._base import ResourceRule
from memlint.rules.resource.executor_not_shutdown import ExecutorNotShutdown
from memlint.rules.resource.process_not_waited import ProcessNotWaited
from memlint.rules.resource.unclosed_connection import UnclosedConnection
from memlint.rules.resource.unclosed_file import UnclosedFile
from memlint.analysis.resources import CONNECTIONS, FILE_OPENERS, PROCESSES
from memlint.testing import lint_text


def messages(code: str, **options: object) -> list[str]:
    return [d.message for d in lint_text(code, select=("MEM2",), **options)]


def test_join_marks_objects_missing_on_a_path_as_not_created() -> None:
    left = State({"f": frozenset({1})}, {1: frozenset({Status.OPEN})})
    right = State({}, {})
    merged = join([left, right, None])
    assert merged is not None
    assert merged.status[1] == frozenset({Status.OPEN, Status.NONE})
    assert merged.bindings["f"] == frozenset({1})
    assert join([None, None]) is None


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("def f(p):\n    return open(p).read()\n", "used once and dropped"),
        ("def f(p):\n    x = open(p)\n    return x.read()\n", "is never closed"),
        ("def f(p):\n    x = open(p)\n    if p:\n        return 1\n    x.close()\n", "not closed on every path"),
        ("def f(p):\n    x = open(p)\n    x = open(p)\n    x.close()\n", "re-bound"),
        ("def f(ps):\n    for p in ps:\n        x = open(p)\n    x.close()\n", "created in a loop"),
    ],
)
def test_reasons(code: str, reason: str) -> None:
    (message,) = messages(code)
    assert reason in message


@pytest.mark.parametrize(
    "code",
    [
        "def f(p):\n    x = open(p)\n    return x\n",
        "def f(p):\n    x = open(p)\n    try:\n        return x.read()\n    finally:\n        x.close()\n",
        "def f(p, s):\n    s.f = open(p)\n",
        "def f(p):\n    x = open(p)\n    def g():\n        x.close()\n    return g\n",
        "def f(p):\n    global X\n    X = open(p)\n",
        "def f(p, out):\n    x = open(p)\n    out.append(x)\n",
        "def f(p):\n    x = open(p)\n    y = x\n    y.close()\n",
        "def f(p):\n    x = open(p) if p else None\n    return 1\n",
        "X = open('log')\n",
    ],
)
def test_ownership_leaves_or_is_unsure(code: str) -> None:
    assert messages(code) == []


def test_strict_reports_release_outside_finally() -> None:
    code = "def f(p):\n    x = open(p)\n    d = x.read()\n    x.close()\n    return d\n"
    assert messages(code) == []
    (message,) = messages(code, strict=True)
    assert "not in a `finally`" in message


def test_main_block_is_a_function_but_module_globals_are_singletons() -> None:
    script = "import sys\nif __name__ == '__main__':\n    out = open(sys.argv[1], 'w')\n    out.write('x')\n"
    assert len(messages(script)) == 1
    library = "out = open('x', 'w')\nout.write('x')\n"
    assert messages(library) == []


def test_sqlite_with_is_not_a_release() -> None:
    code = "import sqlite3\ndef f(p):\n    with sqlite3.connect(p) as c:\n        return c.execute('select 1')\n"
    (message,) = messages(code)
    assert "only commits" in message


def test_class_forgets_needs_a_teardown_that_ignores_the_attribute() -> None:
    def parse(code: str) -> cst.ClassDef:
        node = cst.parse_module(code).body[0]
        assert isinstance(node, cst.ClassDef)
        return node

    kind = FILE_OPENERS["builtins.open"]
    forgets = parse("class A:\n    def close(self):\n        self.n = 0\n")
    closes = parse("class A:\n    def close(self):\n        self.f.close()\n")
    no_teardown = parse("class A:\n    def run(self):\n        pass\n")
    dynamic = parse("class A:\n    def close(self):\n        for n in self.names:\n            getattr(self, n).close()\n")
    assert class_forgets(forgets, "f", kind)
    assert not class_forgets(closes, "f", kind)
    assert not class_forgets(no_teardown, "f", kind)
    assert not class_forgets(dynamic, "f", kind)


def test_untracked_names_are_closures_and_globals() -> None:
    body = cst.parse_module("global g\nx = 1\ndef inner():\n    return y\nz = lambda: w\n").body
    assert {"g", "y", "w"} <= untracked_names(body)
    assert "x" not in untracked_names(body)


def test_messages_name_the_resource_and_the_cure() -> None:
    call = cst.parse_expression("subprocess.Popen(cmd)")
    assert isinstance(call, cst.Call)
    text = ProcessNotWaited.describe(Finding(call, PROCESSES["subprocess.Popen"], "subprocess.Popen", Reason.NEVER))
    assert text.startswith("`subprocess.Popen` is never waited: the child becomes a zombie")
    assert "communicate()" in text
    finding = Finding(call, CONNECTIONS["socket.create_connection"], "socket.create_connection", Reason.DROPPED)
    conn = UnclosedConnection.describe(finding)
    assert "`socket.create_connection()`" in conn


def test_statuses_cover_release_kinds() -> None:
    assert HANDLED == {Status.PLAIN, Status.DONE, Status.GONE}
    assert HANDLED.isdisjoint({Status.OPEN, Status.NONE, Status.IDLE})


def _call(text: str) -> cst.Call:
    node = cst.parse_expression(text)
    assert isinstance(node, cst.Call)
    return node


def test_lazy_clients_and_borrowed_streams() -> None:
    from memlint.analysis.resources import is_lazy, wraps_borrowed_object

    http = CONNECTIONS["http.client.HTTPConnection"]
    smtp = CONNECTIONS["smtplib.SMTP"]
    assert is_lazy(_call("HTTPConnection('example.com')"), http)
    assert is_lazy(_call("SMTP(timeout=3)"), smtp)
    assert not is_lazy(_call("SMTP('mail', 25)"), smtp)
    assert not is_lazy(_call("socket()"), CONNECTIONS["socket.socket"])
    assert wraps_borrowed_object(_call("GzipFile(fileobj=buf)"))
    assert wraps_borrowed_object(_call("ZipFile(io.BytesIO(data))"))
    assert wraps_borrowed_object(_call("open(fd, 'rb', closefd=False)"))
    assert not wraps_borrowed_object(_call("ZipFile(path)"))


@pytest.mark.parametrize("rule", [UnclosedFile, UnclosedConnection, ProcessNotWaited, ExecutorNotShutdown])
def test_each_rule_words_every_reason_it_can_report(rule: type[ResourceRule]) -> None:
    # Only a kind whose own `with` does not release it (sqlite3) can be used in `with` and stay open.
    commits_only = any(not kind.with_releases for kind in rule.resources.values())
    expected = {reason for reason in Reason if commits_only or reason is not Reason.WITH_ONLY_COMMITS}
    assert set(rule.messages) == expected


@pytest.mark.parametrize(
    ("block", "reported"),
    [
        ("self.assertRaises(OSError)", False),
        ("pytest.raises(OSError)", False),
        ("mock.patch('builtins.open')", False),
        # A warning is recorded, not raised: the file is opened and dropped.
        ("self.assertWarns(ResourceWarning)", True),
        ("pytest.warns(ResourceWarning)", True),
    ],
)
def test_creations_expected_to_raise_are_skipped_but_not_under_warns(block: str, reported: bool) -> None:
    code = f"def test(self):\n    with {block}:\n        open('missing').read()\n"
    assert bool(messages(code)) is reported
