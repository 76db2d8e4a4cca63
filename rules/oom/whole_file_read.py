"""MEM402 whole-file-read."""

from __future__ import annotations

import libcst as cst

from memlint.rules.oom._scoped import Scope, ScopedCallRule
from memlint.rules.oom._files import FileFacts, iterated_whole_read, whole_read
from memlint.diagnostic import Family

_SPELLING = {
    "read": "`.read()`",
    "readlines": "`.readlines()`",
    "read_text": "`.read_text()`",
    "read_bytes": "`.read_bytes()`",
}


class WholeFileRead(ScopedCallRule):
    """Flags any unbounded read of a whole file into memory.

    ## What it does
    Reports `.read()` without a size (or with a negative one) and
    `.readlines()` on a file, `Path.read_text()`/`Path.read_bytes()`, and
    `sys.stdin.read()`. Files are recognised as for MEM401: the result of a
    file opener, a `with ... as f` target, `sys.stdin`, a parameter typed as
    a file. Reads that MEM401 reports (lines only iterated) are left to it.
    Opt-in: most programs read small files whole on purpose.

    ## Why is this bad?
    The size of the allocation is the size of the input, which the program
    does not control: a large upload, log or dump becomes one allocation of
    that size (twice, for text decoding) and the process runs out of memory.

    ## Example
    ```python
    import shutil

    def backup(src, dst):
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            fout.write(fin.read())
    ```

    ## Use instead
    ```python
    import shutil

    def backup(src, dst):
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    ```

    ```python
    import hashlib

    def digest(path):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        return h.hexdigest()
    ```

    ## Known limitations
    Files of a size known to be small (configuration, templates) are
    reported too: exclude those paths or leave this rule off. Streams memlint
    cannot identify as files (sockets, HTTP responses) are never reported.
    """

    code = "MEM402"
    name = "whole-file-read"
    family = Family.OOM
    default = False
    message = (
        "{read} loads the whole file into memory at once; process it in pieces "
        "(`for line in f:`, a `f.read(chunk_size)` loop or `shutil.copyfileobj`)"
    )
    triggers = ("read",)
    seed = "reading a whole file into memory at once instead of streaming it"

    def is_candidate(self, node: cst.Call) -> bool:
        return isinstance(node.func, cst.Attribute) and node.func.attr.value in _SPELLING

    def check(self, scope: Scope, calls: list[cst.CSTNode]) -> None:
        facts = FileFacts(scope, self.context.names)
        for call in calls:
            assert isinstance(call, cst.Call)
            method = whole_read(call, facts)
            if method is not None and not iterated_whole_read(call, method, facts):
                self.report(call, self.message.format(read=_SPELLING[method]))
