"""MEM204 executor-not-shutdown."""

from __future__ import annotations

from memlint.rules.resource._base import MESSAGES, ResourceRule
from memlint.analysis.resources import EXECUTORS, trigger_words
from memlint.diagnostic import Family


class ExecutorNotShutdown(ResourceRule):
    """Flags thread and process pools that are never shut down on some path.

    ## What it does
    Follows every `concurrent.futures.ThreadPoolExecutor`/`ProcessPoolExecutor`
    and `multiprocessing.Pool`/`ThreadPool` (also `multiprocessing.pool.*`,
    `multiprocessing.dummy.Pool`, `get_context(...).Pool`) and reports it when
    it is used once and dropped (`ThreadPoolExecutor().submit(job)`), bound to
    a local that is never shut down (`shutdown()` for executors, `close()` or
    `terminate()` for pools), re-bound first, shut down on some paths only, or
    stored on `self` by a class whose teardown method (`close`, `stop`,
    `__exit__`, ...) never shuts it down: a real pattern, an executor created in
    `__init__` that `__exit__` forgets.

    A pool used as a `with` item, returned, stored on an object, or handed to
    another call is fine.

    ## Why is this bad?
    A pool's worker threads or processes live until the pool is shut down.
    Created per call and dropped, every call leaves more idle workers behind:
    threads, processes and their memory pile up until the process exits, and
    interpreter shutdown then waits for them.

    ## Example
    ```python
    from concurrent.futures import ThreadPoolExecutor

    def fetch_all(urls, fetch):
        pool = ThreadPoolExecutor(max_workers=8)
        return list(pool.map(fetch, urls))
    ```

    ```python
    from concurrent.futures import ThreadPoolExecutor

    class Indexer:
        def __init__(self):
            self._pool = ThreadPoolExecutor(max_workers=4)

        def __exit__(self, *exc):
            self.flush()
    ```

    ## Use instead
    ```python
    from concurrent.futures import ThreadPoolExecutor

    def fetch_all(urls, fetch):
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(fetch, urls))
    ```

    ```python
    from concurrent.futures import ThreadPoolExecutor

    class Indexer:
        def __init__(self):
            self._pool = ThreadPoolExecutor(max_workers=4)

        def __exit__(self, *exc):
            self._pool.shutdown(wait=True)
    ```

    ## Options
    - `strict` (shared by MEM201-MEM204): also report pools shut down on
      every normal path but not in a `finally` or `with` (default false).

    ## Known limitations
    Only local names and direct `self.<attr>` stores are followed. A pool kept
    in a module global is treated as an intentional singleton.
    Creations expected to fail are skipped: inside `assertRaises`/`pytest.raises`
    or `mock.patch` blocks, and a bare creation probed in a `try` with handlers.
    """

    code = "MEM204"
    name = "executor-not-shutdown"
    family = Family.RESOURCE
    # The rule's one-line summary; what a finding says is its reason's entry in `messages`.
    message = (
        "executor is never shut down: its workers live until the interpreter exits; "
        "use `with ThreadPoolExecutor() as pool:` or call `pool.shutdown()`"
    )
    # What a finding says: the family's message for its reason (MESSAGES in _base.py).
    messages = MESSAGES
    resources = EXECUTORS
    triggers = trigger_words(EXECUTORS)
    seed = "a worker pool that is never shut down"
