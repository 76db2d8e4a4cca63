"""Shared leak analyses: container constructors, growth events, memo decorators, once-only guards, logger names."""

from __future__ import annotations

import libcst as cst
import pytest

from memlint.rules.leak._caches import MethodKind, memo_decorator, method_kind, takes_arguments
from memlint.rules.leak._containers import Event, events, lookups, module_containers, new_container
from memlint.tree.walk import iter_nodes
from memlint.analysis.logs import per_call_parts
from memlint.tree.names import NameTracker, dotted_name
from memlint.rules.leak._once import runs_once


def _expr(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


def _tracker(code: str) -> tuple[cst.Module, NameTracker]:
    module = cst.parse_module(code)
    return module, NameTracker(module)


@pytest.mark.parametrize(("code", "kind"), [
    ("[]", "list"), ("{}", "dict"), ("set()", "set"), ("dict()", "dict"),
    ("collections.defaultdict(list)", "defaultdict"), ("collections.deque()", "deque"),
    ("collections.deque([], None)", "deque"), ("collections.deque(maxlen=5)", None),
    ("collections.deque([], 10)", None), ("weakref.WeakValueDictionary()", None),
    ("frozenset()", None), ("()", None), ("Cache()", None),
])
def test_new_container(code: str, kind: str | None) -> None:
    _, names = _tracker("import collections, weakref\n")
    assert new_container(_expr(code), names) == kind


def _events(statement: str) -> list[tuple[Event, str | None]]:
    module = cst.parse_module(statement)
    found = []
    for node in iter_nodes(module):
        found.extend((event, dotted_name(expr)) for event, expr in events(node))
    return found


@pytest.mark.parametrize(("code", "expected"), [
    ("x.append(1)", (Event.GROW, "x")),
    ("self.cache[k] = v", (Event.GROW, "self.cache")),
    ("x += [1]", (Event.GROW, "x")),
    ("x |= {1}", (Event.GROW, "x")),
    ("x.pop()", (Event.SHRINK, "x")),
    ("del x[k]", (Event.SHRINK, "x")),
    ("x[:] = []", (Event.SHRINK, "x")),
    ("x -= {1}", (Event.SHRINK, "x")),
    ("x = []", (Event.REBIND, "x")),
    ("if len(x) > 10: pass", (Event.BOUND, "x")),
    ("drain(x)", (Event.ESCAPE, "x")),
    ("return x", (Event.ESCAPE, "x")),
    ("a, b = x, y", (Event.ESCAPE, "x")),
    ("x[k].append(v)", (Event.GROW_ITEM, "x")),
    ("x[k] += 1", (Event.GROW_ITEM, "x")),
])
def test_events(code: str, expected: tuple[Event, str]) -> None:
    assert expected in _events(code)


def test_read_only_calls_do_not_escape() -> None:
    module, names = _tracker("print(len(x), sorted(x))\n")
    found = [e for node in iter_nodes(module) for e, _ in events(node, names)]
    assert Event.ESCAPE not in found


def test_lookups() -> None:
    module = cst.parse_module("if k in cache: pass\nseen.get(k)\n")
    found = {dotted_name(e) for node in iter_nodes(module) for e in lookups(node)}
    assert found == {"cache", "seen"}


def test_module_containers_skips_rebound_and_conditional() -> None:
    module, names = _tracker(
        "a = {}\nb = []\nb = None\ntry:\n    c = {}\nexcept ImportError:\n    c = None\n"
        "class K:\n    items = []\n    class Inner:\n        seen = set()\n"
    )
    assert set(module_containers(module, names)) == {"a", "K.items", "K.Inner.seen"}


@pytest.mark.parametrize(("decorator", "bounded"), [
    ("functools.cache", False), ("functools.lru_cache", True), ("functools.lru_cache()", True),
    ("functools.lru_cache(maxsize=None)", False), ("functools.lru_cache(None)", False),
    ("functools.lru_cache(64)", True), ("memo(None)", False),
])
def test_memo_decorator(decorator: str, bounded: bool) -> None:
    module, names = _tracker(f"import functools\nfrom functools import lru_cache as memo\n@{decorator}\ndef f(x): pass\n")
    function = module.body[-1]
    assert isinstance(function, cst.FunctionDef)
    memo = memo_decorator(function, names)
    assert memo is not None and memo.bounded is bounded


def test_method_kinds() -> None:
    module, names = _tracker("class A:\n    @staticmethod\n    def s(x): pass\n    @classmethod\n    def c(cls): pass\n    def i(self): pass\n")
    cls = module.body[0]
    assert isinstance(cls, cst.ClassDef)
    kinds = [method_kind(f, True, names) for f in cls.body.body]  # type: ignore[arg-type]
    assert kinds == [MethodKind.STATIC, MethodKind.CLASS, MethodKind.INSTANCE]
    assert not takes_arguments(cls.body.body[1], MethodKind.CLASS)  # type: ignore[arg-type]
    assert takes_arguments(cls.body.body[0], MethodKind.STATIC)  # type: ignore[arg-type]


@pytest.mark.parametrize(("code", "dynamic"), [
    ('f"app.{request.id}"', True), ('"jobs.%s" % job_id', True), ('"a." + user.name + x', True),
    ('"w.{}".format(pid)', True), ('f"{__name__}.{type(self).__name__}"', False),
    ('__name__ + ".audit"', False), ('"const"', False), ("name", False),
])
def test_per_call_parts(code: str, dynamic: bool) -> None:
    assert bool(per_call_parts(_expr(code))) is dynamic


def test_runs_once() -> None:
    module = cst.parse_module(
        "def f(x):\n    global _done\n    if not _done:\n        cache.append(x)\n        _done = True\n"
        "def g(x):\n    done = False\n    if not done:\n        cache.append(x)\n        done = True\n"
    )
    f, g = module.body
    assert isinstance(f, cst.FunctionDef) and isinstance(g, cst.FunctionDef)
    grow_f = next(n for n in iter_nodes(f) if isinstance(n, cst.Call))
    grow_g = next(n for n in iter_nodes(g) if isinstance(n, cst.Call))
    assert runs_once(f, grow_f)
    assert not runs_once(g, grow_g)


def test_growth_helpers() -> None:
    from memlint.rules.leak._growth import (
        in_decorator_factory, inheriting_classes, is_registration_api, pins_identity, stores_per_call_data,
    )

    module = cst.parse_module(
        "def handler(name):\n    def register(func):\n        table[name] = func\n        return func\n    return register\n"
        "class Conn:\n    def open(self):\n        live.append(self)\n        names.append(self.name)\n"
        "class Sub(base.Channel):\n    items = []\n"
        "def remember(request_id, payload):\n    seen[request_id] = payload\n"
    )
    handler, conn, _, remember = module.body
    assert isinstance(handler, cst.FunctionDef) and isinstance(conn, cst.ClassDef) and isinstance(remember, cst.FunctionDef)
    register = handler.body.body[0]
    assert isinstance(register, cst.FunctionDef)
    assert in_decorator_factory((handler, register))
    assert is_registration_api(register) and not is_registration_api(remember)
    method = conn.body.body[0]
    assert isinstance(method, cst.FunctionDef)
    appends = [n for n in iter_nodes(method) if isinstance(n, cst.Call) and dotted_name(n.func) in ("live.append", "names.append")]
    assert pins_identity(appends[0], (method,)) and not pins_identity(appends[1], (method,))
    store = next(n for n in iter_nodes(remember) if isinstance(n, cst.Assign))
    assert stores_per_call_data(store)
    assert inheriting_classes(module) == {"Sub"}
