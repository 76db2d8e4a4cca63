"""MEM203 process-not-waited."""

from __future__ import annotations

from memlint.rules.resource._base import MESSAGES, ResourceRule
from memlint.analysis.resources import PROCESSES, trigger_words
from memlint.diagnostic import Family


class ProcessNotWaited(ResourceRule):
    """Flags `subprocess.Popen` children that are never waited for on some path.

    ## What it does
    Follows every `subprocess.Popen` object (also `from subprocess import
    Popen as P`) and reports it when no path reaps the child: it is not a
    `with` item and neither `wait()`, `communicate()` nor `poll()` is called
    on it before it is dropped, re-bound or the function returns. `kill()` or
    `terminate()` alone does not reap: they must be followed by `wait()`.
    The same for `await asyncio.create_subprocess_exec(...)` and
    `create_subprocess_shell(...)`, whose process is reaped only by
    `wait()` or `communicate()` (it is not a context manager).

    A process returned to the caller, stored on an object or in a container,
    or handed to another call is someone else's to wait for.

    ## Why is this bad?
    Until the parent waits for it, a finished child stays in the process table
    as a zombie, and the parent keeps the pipes it opened for it. A service
    that starts a helper per request without waiting fills the process table
    and leaks descriptors.

    ## Example
    ```python
    import subprocess

    def start_compression(path):
        subprocess.Popen(["gzip", "-k", path])
    ```

    ```python
    from subprocess import PIPE, Popen

    def git_head(repo):
        proc = Popen(["git", "rev-parse", "HEAD"], cwd=repo, stdout=PIPE)
        line = proc.stdout.readline()
        return line.strip()
    ```

    ## Use instead
    ```python
    import subprocess

    def start_compression(path):
        with subprocess.Popen(["gzip", "-k", path]) as proc:
            return proc.wait()
    ```

    ```python
    from subprocess import PIPE, Popen

    def git_head(repo):
        proc = Popen(["git", "rev-parse", "HEAD"], cwd=repo, stdout=PIPE)
        out, _ = proc.communicate()
        return out.strip()
    ```

    ## Options
    - `strict` (shared by MEM201-MEM204): also report children waited for on
      every normal path but not in a `finally` or `with` (default false).

    ## Known limitations
    `asyncio.create_subprocess_exec` and `os.popen` are not tracked. A
    process kept on an object or in a list is assumed to be waited for by
    its new owner.
    Handing `proc.pid` to another call counts as handing the process on (it
    may be reaped by pid there).
    Creations expected to fail are skipped: inside `assertRaises`/`pytest.raises`
    or `mock.patch` blocks, and a bare creation probed in a `try` with handlers.
    """

    code = "MEM203"
    name = "process-not-waited"
    family = Family.RESOURCE
    # The rule's one-line summary; what a finding says is its reason's entry in `messages`.
    message = (
        "`subprocess.Popen` is never waited: the child becomes a zombie and its pipes stay open; "
        "use `with subprocess.Popen(...) as p:` or call `p.communicate()`"
    )
    # What a finding says: the family's message for its reason (MESSAGES in _base.py).
    messages = MESSAGES
    resources = PROCESSES
    triggers = trigger_words(PROCESSES)
    seed = "a child process that is never waited for"
