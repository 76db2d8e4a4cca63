"""MEM201 unclosed-file."""

from __future__ import annotations

from memlint.rules.resource._base import MESSAGES, ResourceRule
from memlint.analysis.resources import FILE_OPENERS, trigger_words
from memlint.diagnostic import Family


class UnclosedFile(ResourceRule):
    """Flags files opened and never closed on some path.

    ## What it does
    Follows every file object created by `open`, `io.open`, `codecs.open`,
    `os.fdopen`, `Path.open`, `gzip`/`bz2`/`lzma`/`tarfile`/`zipfile`,
    `tempfile` files and directories, `mmap.mmap`, `wave`, `shelve` and `dbm`
    to where it goes, and reports it when it is:

    - used once and dropped: `open(p).read()`, `json.load(open(p))`,
      `for line in open(p):`, a bare `open(p)` statement;
    - bound to a local that is never closed, or re-bound before it is closed;
    - closed on some paths only: an early `return`, a `continue` or a branch
      that never closes it;
    - created in a loop and only the last one closed;
    - stored on `self` by a class whose teardown method (`close`, `__exit__`,
      `__del__`, ...) never closes it.

    A file is fine when it is a `with` item, passed to `contextlib.closing` or
    `ExitStack.enter_context`, closed in a `finally`, returned or yielded to the
    caller, stored on an object or in a container, or handed to another call
    (a wrapper such as `io.TextIOWrapper` then owns it). Whenever the analysis
    cannot tell where the object goes, it stays silent.

    ## Why is this bad?
    An unclosed file keeps its descriptor, its buffer and (when writing) its
    unflushed data until the garbage collector happens to finalise it. On PyPy
    or in a reference cycle that can be much later; a long-running process
    runs out of descriptors (`OSError: [Errno 24] Too many open files`), and
    written data may be lost or reach the disk late. CPython warns about it
    with `ResourceWarning`.

    ## Example
    ```python
    import json

    def load_settings(path):
        return json.load(open(path))
    ```

    ```python
    def first_line(path):
        f = open(path)
        header = f.readline()
        if not header:
            return None
        f.close()
        return header
    ```

    ## Use instead
    ```python
    import json

    def load_settings(path):
        with open(path) as f:
            return json.load(f)
    ```

    ```python
    def open_log(path):
        handle = open(path, "a")
        return handle
    ```

    ## Options
    - `strict` (shared by MEM201-MEM204): also report files closed on every
      normal path but not in a `finally` or `with`, where only an exception
      skips the close (default false).

    ## Known limitations
    Only local names are followed: a file kept in a container, on another
    object or in a global is assumed to be closed by its new owner. Aliases
    (`g = f`) and objects captured by nested functions are not followed
    either. Paths are not correlated (`if keep: ... if keep: f.close()`), so a
    file created or closed under a condition is reported only when no path
    closes it.
    Creations expected to fail are skipped: inside `assertRaises`/`pytest.raises`
    or `mock.patch` blocks, and a bare creation probed in a `try` with handlers.
    """

    code = "MEM201"
    name = "unclosed-file"
    family = Family.RESOURCE
    # The rule's one-line summary; what a finding says is its reason's entry in `messages`.
    message = "file is never closed: use `with open(...) as f:` so it is closed on every path"
    # What a finding says: the family's message for its reason (MESSAGES in _base.py).
    messages = MESSAGES
    resources = FILE_OPENERS
    triggers = trigger_words(FILE_OPENERS)
    seed = "a file that is never closed"
