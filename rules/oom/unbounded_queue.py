"""MEM405 unbounded-queue."""

from __future__ import annotations

from typing import Final

import libcst as cst

from memlint.analysis.constants import evaluate_int
from memlint.diagnostic import Family
from memlint.rule import Rule

# Queues taking a `maxsize` (first positional argument); 0 or less means unbounded.
BOUNDABLE: Final = frozenset({
    "queue.Queue", "queue.LifoQueue", "queue.PriorityQueue",
    "asyncio.Queue", "asyncio.LifoQueue", "asyncio.PriorityQueue",
    "asyncio.queues.Queue", "asyncio.queues.LifoQueue", "asyncio.queues.PriorityQueue",
    "multiprocessing.Queue", "multiprocessing.JoinableQueue",
    "multiprocessing.Manager().Queue", "multiprocessing.Manager().JoinableQueue",
    "multiprocessing.get_context().Queue", "multiprocessing.get_context().JoinableQueue",
    "gevent.queue.Queue", "gevent.queue.JoinableQueue", "janus.Queue",
})
# Queues that cannot be bounded at all.
ALWAYS_UNBOUNDED: Final = frozenset({
    "queue.SimpleQueue", "multiprocessing.SimpleQueue", "multiprocessing.get_context().SimpleQueue",
})


class UnboundedQueue(Rule):
    """Flags a producer/consumer queue created without a positive `maxsize`.

    ## What it does
    Reports `queue.Queue()`, `LifoQueue()`, `PriorityQueue()`,
    `asyncio.Queue()`, `multiprocessing.Queue()` (and `JoinableQueue`)
    created without a `maxsize` or with a constant `maxsize <= 0`, and
    `queue.SimpleQueue()` / `multiprocessing.SimpleQueue()`, which have no
    bound at all. A `maxsize` that is not a constant is taken as a bound.
    Opt-in: many queues carry a few items between threads and never grow.

    ## Why is this bad?
    When producers outrun consumers an unbounded queue absorbs the
    difference in memory until the process is killed. A bounded queue makes
    `put()` block (or fail), which slows producers down to the consumers'
    pace: back-pressure instead of an OOM.

    ## Example
    ```python
    import queue

    jobs = queue.Queue()
    ```

    ```python
    import asyncio

    async def crawl(urls):
        pending = asyncio.Queue(maxsize=0)
        for url in urls:
            await pending.put(url)
    ```

    ## Use instead
    ```python
    import queue

    jobs = queue.Queue(maxsize=1000)
    ```

    ## Known limitations
    Queues whose producers are known to be bounded (a fixed number of
    items) are reported too; suppress them with `# noqa: MEM405`.
    """

    code = "MEM405"
    name = "unbounded-queue"
    family = Family.OOM
    default = False
    message = (
        "`{queue}` is unbounded: if producers outrun consumers it grows until memory runs out; "
        "bound it with `Queue(maxsize=n)` so `put()` applies back-pressure"
    )
    triggers = ("Queue",)
    seed = "a queue with no bound: when consumers fall behind, it grows until memory runs out"

    def visit_Call(self, node: cst.Call) -> None:
        name = self.context.names.call_name(node)
        if name is None:
            return
        if name in ALWAYS_UNBOUNDED:
            self.report(node, self.message.format(queue=_short(name)))
        elif name in BOUNDABLE and _unbounded(node):
            self.report(node, self.message.format(queue=_short(name)))


def _short(name: str) -> str:
    return f"{name}()"


def _unbounded(call: cst.Call) -> bool:
    size = None
    for position, arg in enumerate(call.args):
        if arg.star:
            return False  # forwarded arguments: unknown
        if (arg.keyword is None and position == 0) or (arg.keyword is not None and arg.keyword.value == "maxsize"):
            size = arg.value
    if size is None:
        return True
    value = evaluate_int(size)
    return value is not None and value <= 0
