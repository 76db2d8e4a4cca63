"""The names the lifetime analysis knows, one table per question.

What creates a resource and what releases each kind is in
``memlint.analysis.resources`` (shared with the oom family); which ``with``
blocks expect their body to raise is in ``memlint.analysis.raising``
(shared with the lifecycle family). These are the resource family's own.
"""

from __future__ import annotations

from typing import Final

# -- calls after which no normal path goes on ---------------------------------
# Qualified names as ``memlint.tree.names`` spells them; ``self.<method>``:
# a test case's own `self.fail(...)` / `self.skipTest(...)` raises.
EXIT_CALLS: Final = frozenset({
    "sys.exit", "os._exit", "os.abort", "builtins.exit", "builtins.quit", "pytest.fail", "pytest.skip", "pytest.exit",
    "self.fail", "self.skipTest",
})

# -- context managers under which a creation may not be real ------------------
# `with mock.patch("builtins.open", ...)` / `with mock.patch.object(...)`: what
# is created inside may be a mock (matched on the callee's last segment).
MOCKING_CONTEXTS: Final = frozenset({"patch", "object"})

# -- teardown methods ---------------------------------------------------------
# A class with one of these owns what it stores on ``self`` and must release
# it there.
TEARDOWN_METHODS: Final = frozenset({
    "close", "aclose", "stop", "shutdown", "terminate", "cleanup", "dispose", "disconnect",
    "teardown", "tearDown", "__exit__", "__aexit__", "__del__", "server_close", "release",
})
# Methods that end a child's or a worker's run: a class calling one on
# ``self.x`` takes care of it, as a release would.
FINISHING_METHODS: Final = frozenset({"join", "kill", "wait"})

# -- hand-offs: the object's life becomes other code's business ---------------
# Methods that end a resource's life whatever its type (ownership moves on).
HANDOFF_METHODS: Final = frozenset({"detach", "__exit__", "__aexit__", "__enter__", "__aenter__", "release"})
# Attributes that identify the resource to other code: handing one on
# (`support.wait_process(proc.pid)`) may hand on its release.
IDENTIFYING_ATTRIBUTES: Final = frozenset({"pid"})
# Methods that only a file object has: a name they are called on is a
# stream, not a path (`zipfile.ZipFile(f)` over it then wraps a borrowed file).
STREAM_METHODS: Final = frozenset({"read", "readline", "readlines", "seek", "tell", "write", "fileno", "flush"})
# Methods whose bound form handed to other code keeps the object alive there
# (`tracer.setwriter(err.write)`, `Thread(target=sock.recv)`): the object's
# life is that code's business now, as when the object itself is passed.
BOUND_HANDOFFS: Final = STREAM_METHODS | frozenset({
    "writelines", "send", "sendall", "sendto", "recv", "recv_into", "recvfrom", "accept", "makefile",
    "submit", "map", "apply_async", "execute", "cursor", "commit",
})
