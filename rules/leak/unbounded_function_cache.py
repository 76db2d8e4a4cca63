"""MEM102 unbounded-function-cache."""

from __future__ import annotations

import libcst as cst

from memlint.rules.leak._caches import (
    Memo,
    MemoCacheRule,
    MethodKind,
    argument_names,
    method_kind,
    takes_arguments,
)
from memlint.analysis.naming import per_call_identifier
from memlint.diagnostic import Family
from memlint.options import Option, parse_bool


class UnboundedFunctionCache(MemoCacheRule):
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
    Opt-in: on the ecosystem check's fresh test set it was right 1 in 4 at
    first look (docs/ecosystem.md). Whether growth repeats per request, and
    how many keys or instances there are, is mostly decided in other modules
    (a singleton made by `main`, keys from configuration), which a one-module
    analysis cannot see. Enable it (`--select MEM102` or `extend-select`)
    to review a service's long-lived state.
    Instance methods are left to MEM103 (cache-on-method). By default the
    open-ended argument is recognised by its name only.
    """

    code = "MEM102"
    default = False
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
    seed = "a cache (a dict) that only grows"

    # Walked by MemoCacheRule (_caches.py): examine() is asked about every
    # memo-decorated function; what it returns is reported after the walk,
    # unless the module calls the function's `cache_clear()`.
    def examine(self, function: cst.FunctionDef, memo: Memo, cls: cst.ClassDef | None) -> str | None:
        if memo.bounded:
            return None
        kind = method_kind(function, cls is not None, self.context.names)
        if kind is MethodKind.INSTANCE or not takes_arguments(function, kind):
            return None
        # By default only caches keyed by evidently open-ended data (`url`,
        # `request`, `user_id`, `page`...): `@cache` on a function of a few
        # configuration names or flags is a deliberate, bounded choice.
        if not self.option("function-cache-any-arguments") and not any(
            per_call_identifier(a) for a in argument_names(function, kind)
        ):
            return None
        spelt = "functools.cache" if memo.name == "cache" else "lru_cache(maxsize=None)"
        return self.message.format(decorator=spelt)
