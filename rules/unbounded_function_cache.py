"""MEM102 unbounded-function-cache."""

from __future__ import annotations

import libcst as cst

from memlint.analysis.caches import MethodKind, argument_names, memo_decorator, method_kind, takes_arguments
from memlint.analysis.naming import per_call_identifier
from memlint.analysis.names import dotted_name
from memlint.diagnostic import Family
from memlint.options import Option, parse_bool
from memlint.rule import Rule


class UnboundedFunctionCache(Rule):
    """Flags `functools.cache` and `lru_cache(maxsize=None)` on functions that take arguments.

    ## What it does
    Reports `@functools.cache`, `@lru_cache(maxsize=None)` and
    `@lru_cache(None)` (resolved through imports and aliases) on a function,
    static method or class method that takes arguments whose names say they
    carry open-ended data: `url`, `request`, `user_id`, `page`, `message`,
    `query`, `text`... (all argument names with `function-cache-any-arguments`).

    ## Why is this bad?
    An unbounded cache keeps one entry per distinct argument tuple for the
    life of the process, arguments and results included. Fed request data
    (ids, paths, user input), it grows without limit.

    ## Example
    ```python
    import functools

    @functools.cache
    def load_profile(user_id):
        return fetch(user_id)
    ```

    ```python
    from functools import lru_cache as memo

    @memo(maxsize=None)
    def render(template, request):
        return compile_template(template, request.path)
    ```

    ## Use instead
    ```python
    import functools

    @functools.lru_cache(maxsize=1024)
    def load_profile(user_id):
        return fetch(user_id)
    ```

    ```python
    from functools import cache

    @cache
    def default_settings():
        return read_settings_file()

    @cache
    def backend(name):
        return import_backend(name)
    ```

    A cache the module empties (`func.cache_clear()`) is not reported.

    ## Options
    - `function-cache-any-arguments` (default false): report every unbounded cache on a
      function with arguments. Off by default because real code uses
      `@cache` deliberately on functions of a few settings, names or flags.

    ## Known limitations
    Instance methods are left to MEM103 (cache-on-method). By default the
    open-ended argument is recognised by its name only.
    """

    code = "MEM102"
    name = "unbounded-function-cache"
    family = Family.LEAK
    message = (
        "`{decorator}` keeps one entry per distinct argument forever: use a bounded "
        "`lru_cache(maxsize=N)` or a `cachetools.LRUCache`/`TTLCache`"
    )
    triggers = ("cache",)
    options = (Option(
        "function-cache-any-arguments", False,
        "report every unbounded cache on a function with arguments, not only those whose parameters name "
        "open-ended data (url, request, user_id, page, message...)", parse_bool,
    ),)
    seed = "3.3 scenario 2: maps that only grow (Map 不断增长)"

    def visit_Module(self, node: cst.Module) -> None:
        self._frames: list[cst.CSTNode] = []
        self._found: list[tuple[cst.FunctionDef, cst.Decorator, str]] = []
        self._cleared: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # `load.cache_clear()` anywhere in the module: the cache is emptied.
        if node.attr.value == "cache_clear":
            self._cleared.add((dotted_name(node.value) or "").rsplit(".", 1)[-1])

    def finish(self) -> None:
        for function, decorator, message in self._found:
            if function.name.value not in self._cleared:
                self.report(decorator, message)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._frames.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._frames.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        in_class = bool(self._frames) and isinstance(self._frames[-1], cst.ClassDef)
        self._frames.append(node)
        names = self.context.names
        memo = memo_decorator(node, names)
        if memo is None or memo.bounded:
            return
        kind = method_kind(node, in_class, names)
        if kind is MethodKind.INSTANCE or not takes_arguments(node, kind):
            return
        # By default only caches keyed by evidently open-ended data (`url`,
        # `request`, `user_id`, `page`...): `@cache` on a function of a few
        # configuration names or flags is a deliberate, bounded choice.
        if self.option("function-cache-any-arguments") or any(per_call_identifier(a) for a in argument_names(node, kind)):
            spelt = "functools.cache" if memo.name == "cache" else "lru_cache(maxsize=None)"
            self._found.append((node, memo.decorator, self.message.format(decorator=spelt)))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._frames.pop()
