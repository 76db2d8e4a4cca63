"""MEM401 whole-file-read-to-iterate."""

from __future__ import annotations

import libcst as cst

from memlint.rules.oom._scoped import Scope, ScopedCallRule
from memlint.rules.oom._files import FileFacts, iterated_whole_read, whole_read
from memlint.diagnostic import Family

_CURES = {
    "readlines": "iterate the file itself: `for line in f:`",
    "read": "iterate the file itself: `for line in f:`",
    "read_text": "open it and iterate the file: `with path.open() as f: for line in f:`",
    "read_bytes": "open it and iterate the file: `with path.open(\"rb\") as f: for line in f:`",
}


def _readlines_of_anything(call: cst.Call, scope: Scope) -> bool:
    """`x.readlines()` with no size: `readlines` is the file-object method,
    so whatever `x` is (a pipe, a stream parameter), it reads to the end.
    Not inside a `readlines` method: a file-like wrapper delegating to the
    stream it wraps must return the whole list anyway."""
    if isinstance(scope, cst.FunctionDef) and scope.name.value == "readlines":
        return False
    return isinstance(call.func, cst.Attribute) and call.func.attr.value == "readlines" and not call.args


class WholeFileReadToIterate(ScopedCallRule):
    """Flags reading a whole file into memory only to loop over its lines.

    ## What it does
    Reports `f.readlines()`, `f.read().splitlines()`, `f.read().split("\\n")`
    and `Path(p).read_text().splitlines()` when the list of lines is only
    iterated: directly in a `for` loop or comprehension (also through
    `enumerate`), or through a local whose every use is such a loop, and
    that loop streams: a loop that keeps an entry for every line (a list,
    set or dict comprehension without `if`, a generator collected by
    `list()`/`sorted()`/`"".join()`, a `for` whose body appends, adds or
    stores on every pass) is not reported, since its result is as large as
    the file anyway.
    `readlines()` without a size is reported whatever `f` is (a pipe, a
    socket file, a stream parameter): it is the file-object method. For the
    `read()` forms `f` must be known to be a file: the result of `open()`
    and the other file openers, a `with ... as f` target, `sys.stdin`, or a
    parameter annotated `TextIO`/`BinaryIO`/`IO`.

    ## Why is this bad?
    The whole file and a list of all its lines are held in memory at once,
    although the loop needs one line at a time. On a large log or data file
    this is a sudden allocation of several times the file's size and the
    process runs out of memory; a file object iterates line by line in
    constant memory.

    ## Example
    ```python
    def count_errors(path):
        with open(path) as log:
            return sum(1 for line in log.readlines() if "ERROR" in line)
    ```

    ```python
    from pathlib import Path

    def longest_line(path: Path) -> int:
        longest = 0
        for line in path.read_text().splitlines():
            longest = max(longest, len(line))
        return longest
    ```

    ## Use instead
    ```python
    def count_errors(path):
        with open(path) as log:
            return sum(1 for line in log if "ERROR" in line)
    ```

    ```python
    def rewrite(path):
        with open(path) as f:
            lines = f.readlines()
        with open(path, "w") as f:
            for line in lines:
                f.write(line.upper())
    ```

    ## Known limitations
    On the ecosystem check's 79 packages (docs/ecosystem.md) it was right once
    in 29 reports: most files read this way are small by nature (`/proc`
    files, ignore and config files, a tool's own data), which no fact in the
    code tells apart from a log or a data file. It is therefore opt-in:
    enable it (`--select MEM401` or `extend-select`) in code that reads
    user-sized files.
    For `f.read().splitlines()` only files memlint can see being opened (or
    typed as files) are checked: a file passed in as an unannotated
    parameter or stored on `self` is not. A `readlines` method that
    delegates to the stream it wraps is not reported.
    A line list kept beyond the `with` that read it is not reported, since
    the file is then often rewritten from it.
    """

    code = "MEM401"
    default = False
    name = "whole-file-read-to-iterate"
    family = Family.OOM
    message = "whole file read into memory only to iterate its lines; {cure}"
    triggers = ("readlines", "split")
    seed = "reading a whole file into memory at once only to go through it line by line"

    def is_candidate(self, node: cst.Call) -> bool:
        return isinstance(node.func, cst.Attribute) and node.func.attr.value in _CURES

    def check(self, scope: Scope, calls: list[cst.CSTNode]) -> None:
        facts = FileFacts(scope, self.context.names)
        for call in calls:
            assert isinstance(call, cst.Call)
            method = whole_read(call, facts) or ("readlines" if _readlines_of_anything(call, scope) else None)
            if method is not None and iterated_whole_read(call, method, facts):
                self.report(call, self.message.format(cure=_CURES[method]))
