"""memlint.analysis.schedule: which functions run once, from the module's own call graph."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from memlint.analysis.schedule import schedule_of
from memlint.tree.walk import iter_nodes


def _verdicts(source: str) -> dict[str, bool]:
    module = cst.parse_module(textwrap.dedent(source))
    schedule = schedule_of(module)
    found: dict[str, bool] = {}
    for node in iter_nodes(module):
        if isinstance(node, cst.FunctionDef):
            found[node.name.value] = schedule.runs_once(node)
        elif isinstance(node, cst.ClassDef):
            found[f"class {node.name.value}"] = schedule.single_instance(node)
    return found


def test_called_only_from_module_level_code_runs_once() -> None:
    found = _verdicts("""
        def setup():
            helper()
        def helper(): ...
        def handle(request):
            other()
        def other(): ...
        setup()
    """)
    assert found == {"setup": True, "helper": True, "handle": False, "other": False}


def test_one_per_call_caller_makes_it_per_call() -> None:
    found = _verdicts("""
        def helper(): ...
        def handle(request):
            helper()
        helper()
    """)
    assert found["helper"] is False


def test_a_function_handed_on_is_per_call() -> None:
    found = _verdicts("""
        import threading
        def work(): ...
        threading.Thread(target=work).start()
    """)
    assert found["work"] is False


def test_the_main_block_and_lambdas() -> None:
    found = _verdicts("""
        def main(): ...
        def later(): ...
        if __name__ == "__main__":
            main()
            callback = lambda: later()
    """)
    assert found == {"main": True, "later": False}


def test_recursion_stays_per_call() -> None:
    found = _verdicts("""
        def walk(node):
            walk(node)
        walk(None)
    """)
    assert found["walk"] is False


def test_class_creation_hooks_run_once() -> None:
    found = _verdicts("""
        class Meta(type):
            def __new__(mcs, name, bases, ns):
                return super().__new__(mcs, name, bases, ns)
            def __call__(cls, *args):
                return super().__call__(*args)
        class Plugin(metaclass=Meta):
            def __init_subclass__(cls, **kwargs): ...
            def __set_name__(self, owner, name): ...
            def run(self): ...
    """)
    assert found["__new__"] and found["__init_subclass__"] and found["__set_name__"]
    assert not found["__call__"]  # a metaclass's __call__ runs per instance
    assert not found["run"]


def test_decorator_factories_used_at_import() -> None:
    found = _verdicts("""
        def route(path):
            def decorate(view):
                return view
            return decorate
        def wraps_each_call(fn):
            def wrapper(*args):
                return fn(*args)
            return wrapper
        @route("/")
        @wraps_each_call
        def index(): ...
    """)
    assert found["route"] and found["decorate"] and found["wraps_each_call"]
    assert not found["wrapper"]  # runs on every call of index()
    assert not found["index"]


def test_constructors_of_instances_made_once() -> None:
    found = _verdicts("""
        class Service:
            def __init__(self):
                self._install()
            def _install(self): ...
            def handle(self): ...
        class Session:
            def __init__(self):
                self._install()
            def _install(self): ...
        SERVICE = Service()
        def on_connect(conn):
            return Session()
    """)
    assert found["class Service"] is True
    assert found["class Session"] is False
    assert found["__init__"] is False  # names repeat: the last one, Session's, is kept


def test_subclass_made_per_call_makes_the_base_constructor_per_call() -> None:
    source = """
        class Base:
            def __init__(self): ...
        class Child(Base): ...
        BASE = Base()
        def make():
            return Child()
    """
    assert _verdicts(source)["__init__"] is False


@pytest.mark.parametrize("store", [
    "cls._instance = cls()",
    "cls._instance = super().__new__(cls)",
    "Pool._instance = Pool()",
    "cls._instance = cls._make()",
])
def test_a_class_caching_its_instance_has_one(store: str) -> None:
    found = _verdicts(f"""
        class Pool:
            _instance = None
            @classmethod
            def get(cls):
                if cls._instance is None:
                    {store}
                return cls._instance
            @classmethod
            def _make(cls):
                return cls()
    """)
    assert found["class Pool"] is True


def test_an_instance_attribute_is_not_an_instance_cache() -> None:
    found = _verdicts("""
        class Node:
            def link(self):
                self.next = Node()
        def grow():
            return Node()
    """)
    assert found["class Node"] is False


def test_the_schedule_is_reused_for_the_same_module() -> None:
    module = cst.parse_module("def f(): ...\n")
    assert schedule_of(module) is schedule_of(module)
    other = cst.parse_module("def f(): ...\n")
    assert schedule_of(other) is not schedule_of(module)
