"""MEM103 cache-on-method."""

from __future__ import annotations

import libcst as cst

from memlint.rules.leak._caches import (
    Memo,
    MemoCacheRule,
    MethodKind,
    method_kind,
)
from memlint.rules.leak._classes import is_service, is_singleton
from memlint.diagnostic import Family
from memlint.options import Option, parse_bool


class CacheOnMethod(MemoCacheRule):
    """Flags `functools.lru_cache`/`cache` on instance methods.

    ## What it does
    Reports `@cache`, `@lru_cache` and `@lru_cache(maxsize=...)` from
    `functools`, resolved through imports and aliases, on an instance
    method, including methods of nested classes and properties stacked on a
    cache (flake8-bugbear's B019, plus the unbounded forms).

    The rule is opt-in (`--extend-select MEM103`): whether the instances are
    many (one per request: a leak) or few (one per run: harmless) is rarely
    visible in the code. Even narrowed to unbounded caches outside service
    classes it was right only 5 times in 7 on real code (docs/precision-leak.md).
    Once enabled it reports the whole pattern; the two options narrow it.

    ## Why is this bad?
    The cache lives on the function, which lives on the class, and every
    key includes `self`. Each instance the method was ever called on stays
    reachable from the class forever, with everything it references.

    ## Example
    ```python
    import functools

    class Report:
        def __init__(self, rows):
            self.rows = rows

        @functools.cache
        def total(self, column):
            return sum(row[column] for row in self.rows)
    ```

    ## Use instead
    ```python
    import functools

    class Report:
        def __init__(self, rows):
            self.rows = rows

        @functools.cached_property
        def grand_total(self):
            return sum(sum(row) for row in self.rows)

        @staticmethod
        @functools.lru_cache(maxsize=32)
        def parse_header(text):
            return text.split(",")
    ```

    A cache the module empties (`func.cache_clear()`) is not reported.

    ## Options
    - `method-cache-bounded` (default true): report bounded caches too
      (`@lru_cache`, `lru_cache(maxsize=N)`), which pin up to N instances
      until evicted. `false` keeps only the unbounded ones.

    - `method-cache-all-classes` (default true): report methods of classes with one
      instance per process too: a `Singleton` base or metaclass, an instance made
      at module level, or a service-object name (`...Manager`, `...Backend`,
      `...Finder`, `...Registry`, `...Service`, `...Engine`, `...Dialect`...).
      `false` skips them.

    ## Known limitations
    Service objects are recognised by their class name. A class with a
    handful of long-lived instances under another name is reported.
    A method whose first parameter is `cls` is taken for a class method.
    """

    code = "MEM103"
    name = "cache-on-method"
    family = Family.LEAK
    # Opt-in: 5 right in 7 on real code even narrowed (docs/precision-leak.md);
    # per-run objects (a CLI's classifier) look like per-request ones.
    default = False
    message = (
        "`{decorator}` on a method keeps every `self` it sees alive: use `functools.cached_property`, "
        "a per-instance cache (a dict set in `__init__`), or cache a module-level function of plain values"
    )
    triggers = ("cache",)
    options = (
        Option("method-cache-bounded", True,
               "report bounded `lru_cache(maxsize=N)` / bare `@lru_cache` on methods (they pin up to N "
               "instances until evicted)", parse_bool),
        Option("method-cache-all-classes", True,
               "report methods of singletons and service classes (`...Manager`, `...Backend`, `...Finder`, "
               "a `Singleton` base, one instance made at module level)", parse_bool),
    )
    seed = "a cache on a method that keeps every instance it has seen alive"

    # Walked by MemoCacheRule (_caches.py): examine() is asked about every
    # memo-decorated function; what it returns is reported after the walk,
    # unless the module calls the function's `cache_clear()`.
    def examine(self, function: cst.FunctionDef, memo: Memo, cls: cst.ClassDef | None) -> str | None:
        if cls is None or method_kind(function, True, self.context.names) is not MethodKind.INSTANCE:
            return None
        # A bounded cache releases an instance once it is evicted; unbounded
        # ones hold every instance forever. Both options narrow the rule to
        # the latter, outside classes with one instance per process.
        if not self.option("method-cache-all-classes") and (
            is_singleton(cls, self.context.module) or is_service(cls)
        ):
            return None
        if memo.bounded and not self.option("method-cache-bounded"):
            return None
        spelt = "cache" if memo.name == "cache" else "lru_cache" if not memo.bounded else "lru_cache(maxsize=N)"
        return self.message.format(decorator=spelt)
