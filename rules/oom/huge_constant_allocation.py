"""MEM403 huge-constant-allocation."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import libcst as cst

from memlint.analysis.constants import allocation_bytes, module_constants
from memlint.tree.names import NameTracker
from memlint.diagnostic import Family
from memlint.options import Option, parse_byte_size
from memlint.rule import FileContext, Rule


def _human(size: int) -> str:
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size:,} bytes"


class HugeConstantAllocation(Rule):
    """Flags a single allocation of a constant size at or above a threshold.

    ## What it does
    Folds constant sizes (`10 * 1024 ** 3`, `1 << 33`, `int(1e10)`, module
    constants such as `BUFFER = 2 ** 31`) and estimates the bytes allocated
    by `bytearray(n)`, `bytes(n)`, `os.urandom(n)`, `b"\\0" * n`, `"x" * n`,
    `[0] * n` (8 bytes a slot), `[0 for _ in range(n)]`, `list(range(n))`,
    `array.array` and numpy `zeros`/`ones`/`empty`/`full` with a constant
    shape (times the dtype's size when the dtype is a constant). Reports
    those of `huge-allocation` bytes (default 1 GiB) or more.

    ## Why is this bad?
    The allocation happens all at once: on a machine (or container) with
    less free memory the process is killed by the OOM killer, and even when
    it fits it pushes everything else out of memory. Buffers of that size
    are almost always better streamed, memory-mapped or allocated from the
    size of the actual input.

    ## Example
    ```python
    buffer = bytearray(4 * 1024 ** 3)
    ```

    ```python
    import numpy as np

    grid = np.zeros((100_000, 100_000))
    ```

    ## Use instead
    ```python
    CHUNK = 1 << 20

    def copy(src, dst):
        buffer = bytearray(CHUNK)
        while n := src.readinto(buffer):
            dst.write(buffer[:n])
    ```

    ## Options
    - `huge-allocation`: the smallest size reported, as a byte size
      (`"1GiB"`, `"500MB"` or a number of bytes; default `"1GiB"`).

    ## Known limitations
    Sizes computed at run time, or from constants of other modules, are not
    known and not reported. Estimates count the container only (plus the
    int objects of `list(range(n))`), not the objects it refers to.
    """

    code = "MEM403"
    name = "huge-constant-allocation"
    family = Family.OOM
    message = (
        "allocates about {size} at once; stream the data in chunks, memory-map it "
        "or size the buffer from the actual input"
    )
    options = (Option("huge-allocation", "1GiB", "smallest constant allocation reported (a byte size)", parse_byte_size),)
    seed = "one sudden allocation larger than the machine can give"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._env: dict[str, int | float] | None = None
        self._limit: int | None = None
        # Inner parts of an allocation already reported (or judged) as a whole.
        self._covered: set[int] = set()

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.Multiply):
            self._check(node)

    def visit_Call(self, node: cst.Call) -> None:
        self._check(node)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._check(node)

    def _check(self, node: cst.BaseExpression) -> None:
        if id(node) in self._covered:
            return
        estimate = allocation_bytes(node, self._qualified_name, self._constants())
        if estimate is None:
            return
        size, inner = estimate
        self._covered.update(id(n) for n in inner)
        if size >= self._threshold():
            self.report(node, self.message.format(size=_human(size)))

    def _threshold(self) -> int:
        # Defaults are not run through the parser: "1GiB" arrives as text.
        if self._limit is None:
            self._limit = parse_byte_size(self.option("huge-allocation"))
        return self._limit

    def _qualified_name(self, expr: cst.BaseExpression) -> str | None:
        return self.context.names.qualified_name(expr)

    def _constants(self) -> _VisibleConstants:
        if self._env is None:
            self._env = module_constants(self.context.module)
        return _VisibleConstants(self._env, self.context.names)


class _VisibleConstants(Mapping[str, "int | float"]):
    """Module constants, minus those a function's own local hides."""

    def __init__(self, values: dict[str, int | float], names: NameTracker) -> None:
        self.values = values
        self.names = names

    def __getitem__(self, key: str) -> int | float:
        scope = self.names.current
        while scope is not None and scope is not self.names.module_scope:
            if key in scope.bindings and not scope.is_class:
                raise KeyError(key)
            scope = scope.parent
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)
