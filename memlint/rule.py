"""The Rule base class: one libcst visitor per rule, fresh for every file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import libcst as cst

from memlint.diagnostic import Family
from memlint.options import Option

if TYPE_CHECKING:
    from memlint.tree.names import NameTracker
    from memlint.tree.where import Where


@dataclass(slots=True)
class FileContext:
    """What a rule may know about the file it is checking."""

    path: str
    source: str
    module: cst.Module
    names: NameTracker
    # The walk's position: the node being visited, its ancestors, the
    # enclosing functions and classes (maintained by the engine).
    where: Where
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Report:
    """A rule's raw output: the node to point at and the message."""

    code: str
    node: cst.CSTNode
    message: str


class Rule(cst.BatchableCSTVisitor):
    """Base class of every memlint rule.

    Subclasses declare the class attributes below and implement ordinary
    libcst ``visit_<Node>`` / ``leave_<Node>`` methods. The class docstring is
    the rule's documentation, in ruff's sections (``## What it does``,
    ``## Why is this bad?``, ``## Example``, ``## Use instead``); the code
    blocks under Example and Use instead are run as tests.

    Rules never prune the walk (returning ``False`` from ``visit_`` is
    ignored by the engine) and never declare libcst metadata: the engine's
    own name tracker (``self.context.names``) answers "what does this name
    refer to" at a fraction of ScopeProvider's cost.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    family: ClassVar[Family]
    default: ClassVar[bool] = True
    message: ClassVar[str]
    # Words of which at least one must occur in the source for the rule to be
    # able to fire (the last segment of every qualified name it matches, as a
    # call or an import alias must spell it). Empty: always run.
    triggers: ClassVar[tuple[str, ...]] = ()
    options: ClassVar[tuple[Option, ...]] = ()
    # The seed scenario the rule comes from, for the docs.
    seed: ClassVar[str] = ""

    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context
        self.reports: list[Report] = []

    def option(self, key: str) -> Any:
        """The effective value of one of this rule's options."""
        return self.context.options[key.replace("-", "_")]

    def finish(self) -> None:
        """Called once after the walk: for rules that need the whole module
        before deciding (a container grown in one function, shrunk in another)."""

    def report(self, node: cst.CSTNode, message: str | None = None) -> None:
        """Report ``node``; the engine computes its position lazily."""
        self.reports.append(Report(self.code, node, message or self.message))

    @classmethod
    def can_fire(cls, source: str) -> bool:
        """Cheap textual screen; sound when ``triggers`` is complete."""
        return not cls.triggers or any(word in source for word in cls.triggers)

    @classmethod
    def doc_sections(cls) -> dict[str, str]:
        """The docstring split into its ``## Heading`` sections."""
        return split_sections(cls.__doc__ or "")

    @classmethod
    def examples(cls) -> tuple[list[str], list[str]]:
        """Code blocks under ``## Example`` (must fire) and ``## Use instead`` (must not)."""
        sections = cls.doc_sections()
        return (
            code_blocks(sections.get("Example", "")),
            code_blocks(sections.get("Use instead", "")),
        )


_HEADING = re.compile(r"^## (.+)$", re.MULTILINE)
_CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def split_sections(doc: str) -> dict[str, str]:
    import inspect

    text = inspect.cleandoc(doc)
    parts = _HEADING.split(text)
    sections = {"": parts[0].strip()}
    for heading, body in zip(parts[1::2], parts[2::2]):
        sections[heading.strip()] = body.strip()
    return sections


def code_blocks(text: str) -> list[str]:
    return [block for block in _CODE_BLOCK.findall(text)]
