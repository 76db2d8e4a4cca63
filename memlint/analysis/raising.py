"""Context managers whose body is expected to raise: a call written there is
meant to fail, so it makes no object.

``with self.assertRaises(ValueError): open(bad)`` opens nothing, and
``with pytest.raises(RuntimeError): Thread(target=f).start()`` starts
nothing: a rule that follows what a call returns (a file to close, a thread
to join) has nothing to follow there. One table for every family that needs
it (the resource rules MEM201-MEM204, the lifecycle rules MEM301/MEM303).

Warnings are not exceptions: under ``assertWarns``/``pytest.warns`` the call
still returns its object (the warning is only recorded), so what it creates
must be released as anywhere else; they are not listed.
"""

from __future__ import annotations

from typing import Final

import libcst as cst

from memlint.tree.nodes import last_segment

# The last segment of the callee of a ``with`` item: ``pytest.raises``,
# ``self.assertRaises``, ``unittest.TestCase.assertRaisesRegex``.
EXPECTED_TO_RAISE: Final = frozenset({"raises", "assertRaises", "assertRaisesRegex", "assertRaisesRegexp"})


def expects_raise(node: cst.With) -> bool:
    """Whether one of ``node``'s items is a call of ``EXPECTED_TO_RAISE``."""
    return any(
        isinstance(item.item, cst.Call) and last_segment(item.item.func) in EXPECTED_TO_RAISE
        for item in node.items
    )
