"""Which expressions of one function are open files or filesystem paths, and which calls read a whole file.

Used by MEM401/MEM402. A value counts as a file only when memlint can see
where it comes from: a file opener of ``resources.FILE_OPENERS`` (directly,
as a ``with ... as f`` target or through a local bound only to such values),
``sys.stdin``, or a parameter annotated ``IO``/``TextIO``/``BinaryIO``.
A ``.read()`` on anything else (sockets, HTTP responses, ``configparser``)
is never taken for a file read. Paths (for ``read_text``/``read_bytes``) are
``pathlib.Path(...)`` and what path operations derive from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import libcst as cst

from memlint.rules.oom._scoped import Binding, Scope, ScopeBindings
from memlint.analysis.constants import evaluate_int
from memlint.analysis.resources import FILE_OPENERS

if TYPE_CHECKING:
    from memlint.tree.names import NameTracker

# Openers of the resource table whose objects are archives or databases, not
# byte/text streams: their ``read`` (if any) takes a member name.
NOT_STREAMS: Final = frozenset({
    "tarfile.open", "tarfile.TarFile", "zipfile.ZipFile", "shelve.open", "dbm.open", "wave.open",
    "mmap.mmap", "tempfile.TemporaryDirectory",
})
# Other calls that return a file-like stream over a file's bytes: async file
# libraries, package resources, archive members, `tokenize.open`.
EXTRA_FILE_OPENERS: Final = frozenset({
    "aiofiles.open", "anyio.open_file", "trio.open_file",
    "importlib.resources.open_text", "importlib.resources.open_binary",
    "importlib_resources.open_text", "importlib_resources.open_binary",
    "pkg_resources.resource_stream", "io.open_code", "tokenize.open",
    "zipfile.ZipFile().open", "tarfile.open().extractfile", "tarfile.TarFile().extractfile",
})
STANDARD_STREAMS: Final = frozenset({"sys.stdin", "sys.stdin.buffer", "sys.__stdin__", "sys.__stdin__.buffer"})
FILE_TYPES: Final = frozenset({
    "typing.IO", "typing.TextIO", "typing.BinaryIO", "io.TextIOWrapper", "io.BufferedReader",
    "io.BufferedRandom", "io.FileIO", "io.TextIOBase", "io.BufferedIOBase", "io.RawIOBase", "io.IOBase",
})
PATH_FACTORIES: Final = frozenset({
    "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.WindowsPath",
    "pathlib.PurePosixPath", "pathlib.PureWindowsPath", "pathlib.Path.cwd", "pathlib.Path.home",
    "zipfile.Path", "importlib.resources.files", "importlib_resources.files", "anyio.Path", "trio.Path",
})
PATH_TYPES: Final = frozenset({
    "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.WindowsPath", "zipfile.Path",
    "importlib.abc.Traversable", "importlib.resources.abc.Traversable",
})
# Methods and attributes of a path that give another path.
PATH_METHODS: Final = frozenset({
    "joinpath", "with_name", "with_suffix", "with_stem", "resolve", "absolute", "expanduser", "relative_to",
})
PATH_ATTRIBUTES: Final = frozenset({"parent"})
PATH_ITERATORS: Final = frozenset({"glob", "rglob", "iterdir"})
# What may stand between a whole read and the split into lines.
_TEXT_STEPS: Final = frozenset({"decode", "strip", "rstrip", "lstrip", "lower", "upper"})
_LINE_SEPARATORS: Final = frozenset({"\n", "\r\n"})


class FileFacts:
    """Files and paths of one function (or module) body.

    ``FileFacts(scope, names)`` walks the scope once; ``is_file``/``is_path``
    then answer for any expression inside it. A local counts only if every
    binding of it in the scope is a file (resp. path): flow-insensitive and
    conservative.
    """

    def __init__(self, scope: Scope, names: NameTracker, index: ScopeBindings | None = None) -> None:
        self.index = index or ScopeBindings(scope)
        self.names = names
        self.name_scope = names.scope_of(scope)
        self._memo: dict[tuple[str, str], bool] = {}

    # -- files ----------------------------------------------------------
    def is_file(self, expr: cst.BaseExpression) -> bool:
        """True when ``expr`` is known to be an open file (or stdin)."""
        if isinstance(expr, cst.Await):
            return self.is_file(expr.expression)
        if isinstance(expr, cst.Call):
            return self.is_opener(expr)
        if isinstance(expr, cst.IfExp):
            return self.is_file(expr.body) and self.is_file(expr.orelse)
        if isinstance(expr, cst.Name) and expr.value in self.index.bindings:
            return self._all_bindings("file", expr.value, self._binding_is_file)
        return self.names.qualified_name(expr, self.name_scope) in STANDARD_STREAMS

    def is_opener(self, call: cst.Call) -> bool:
        """True when ``call`` opens a file (a byte or text stream)."""
        name = self.names.call_name(call, self.name_scope)
        if name is not None:
            kind = FILE_OPENERS.get(name)
            if kind is not None and kind.label == "file" and name not in NOT_STREAMS:
                return True
            if name in EXTRA_FILE_OPENERS:
                return True
        func = call.func
        return isinstance(func, cst.Attribute) and func.attr.value == "open" and self.is_path(func.value)

    def with_statement(self, expr: cst.BaseExpression) -> cst.With | None:
        """The ``with`` that opened the file ``expr`` names, around ``expr``."""
        return self.index.opening_with(expr)

    def _binding_is_file(self, binding: Binding) -> bool:
        if binding.value is None:
            return False
        if binding.kind == "assign":
            return self.is_file(binding.value)
        if binding.kind == "with":
            return isinstance(binding.value, cst.Call) and self.is_opener(binding.value)
        if binding.kind == "param":
            return self._annotation_in(binding.value, FILE_TYPES)
        return False

    # -- paths ----------------------------------------------------------
    def is_path(self, expr: cst.BaseExpression) -> bool:
        """True when ``expr`` is known to be a ``pathlib``-style path."""
        if isinstance(expr, cst.Call):
            if self.names.call_name(expr, self.name_scope) in PATH_FACTORIES:
                return True
            func = expr.func
            return isinstance(func, cst.Attribute) and func.attr.value in PATH_METHODS and self.is_path(func.value)
        if isinstance(expr, cst.Attribute):
            return expr.attr.value in PATH_ATTRIBUTES and self.is_path(expr.value)
        if isinstance(expr, cst.BinaryOperation):
            return isinstance(expr.operator, cst.Divide) and (self.is_path(expr.left) or self.is_path(expr.right))
        if isinstance(expr, cst.Name) and expr.value in self.index.bindings:
            return self._all_bindings("path", expr.value, self._binding_is_path)
        return False

    def _binding_is_path(self, binding: Binding) -> bool:
        if binding.value is None:
            return False
        if binding.kind == "assign":
            return self.is_path(binding.value)
        if binding.kind == "for":
            iterable = binding.value
            return (
                isinstance(iterable, cst.Call)
                and isinstance(iterable.func, cst.Attribute)
                and iterable.func.attr.value in PATH_ITERATORS
                and self.is_path(iterable.func.value)
            )
        if binding.kind == "param":
            return self._annotation_in(binding.value, PATH_TYPES)
        return False

    # -- helpers --------------------------------------------------------
    def _all_bindings(self, what: str, name: str, check: object) -> bool:
        key = (what, name)
        known = self._memo.get(key)
        if known is not None:
            return known
        self._memo[key] = False  # a cycle (x = x / "a") proves nothing
        result = all(check(b) for b in self.index.bindings[name])  # type: ignore[operator]
        self._memo[key] = result
        return result

    def _annotation_in(self, annotation: cst.BaseExpression, types: frozenset[str]) -> bool:
        # `Optional[T]`, `T | None` and `IO[str]` count as `T`.
        if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
            sides = (annotation.left, annotation.right)
            real = [s for s in sides if not (isinstance(s, cst.Name) and s.value == "None")]
            return len(real) == 1 and self._annotation_in(real[0], types)
        if isinstance(annotation, cst.Subscript):
            outer = self.names.qualified_name(annotation.value, self.name_scope)
            if outer == "typing.Optional" and len(annotation.slice) == 1:
                inner = annotation.slice[0].slice
                return isinstance(inner, cst.Index) and self._annotation_in(inner.value, types)
            return outer in types
        return self.names.qualified_name(annotation, self.name_scope) in types


def whole_read(call: cst.Call, facts: FileFacts) -> str | None:
    """The method (``read``, ``readlines``, ``read_text``, ``read_bytes``)
    when ``call`` reads a whole file or path into memory at once, else None."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    if method in ("read", "readlines"):
        return method if _unbounded(call, method) and facts.is_file(func.value) else None
    if method in ("read_text", "read_bytes"):
        if facts.is_path(func.value):
            return method
        # The unbound spelling `Path.read_text(p)`.
        if facts.names.qualified_name(func, facts.name_scope) in {f"{t}.{method}" for t in PATH_TYPES}:
            return method
    return None


def _unbounded(call: cst.Call, method: str) -> bool:
    """No size (or a negative/None one): ``read()``, ``read(-1)``, ``readlines()``,
    ``readlines(0)``. ``read(0)`` reads nothing."""
    size = next((a for a in call.args if a.keyword is None or a.keyword.value in ("size", "n", "hint")), None)
    if size is None:
        return True
    if isinstance(size.value, cst.Name) and size.value.value == "None":
        return True
    value = evaluate_int(size.value)
    if value is None:
        return False
    return value < 0 or (value == 0 and method == "readlines")


def lines_of(read: cst.Call, method: str, index: ScopeBindings) -> cst.BaseExpression | None:
    """The list of lines a whole read is turned into: ``f.readlines()``
    itself, or the ``.splitlines()``/``.split("\\n")`` applied to ``f.read()``
    (possibly after ``.decode()``/``.strip()``). None when the text is used
    otherwise."""
    if method == "readlines":
        return read
    current: cst.BaseExpression = read
    while True:
        attribute = index.parent(current)
        call = index.parent(attribute) if attribute is not None else None
        if not (isinstance(attribute, cst.Attribute) and attribute.value is current and isinstance(call, cst.Call) and call.func is attribute):
            return None
        step = attribute.attr.value
        if step == "splitlines":
            return call
        if step == "split":
            return call if _splits_lines(call) else None
        if step not in _TEXT_STEPS:
            return None
        current = call


def _splits_lines(call: cst.Call) -> bool:
    if len(call.args) != 1 or call.args[0].keyword is not None:
        return False
    separator = call.args[0].value
    if isinstance(separator, cst.SimpleString):
        try:
            value = separator.evaluated_value
        except Exception:  # noqa: BLE001 - odd literal: not a line split
            return False
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        return value in _LINE_SEPARATORS
    return False


def iterated_whole_read(read: cst.Call, method: str, facts: FileFacts) -> bool:
    """True when the lines of a whole read are only iterated (MEM401's
    pattern): ``for line in f.readlines()``, or ``lines = f.read().splitlines()``
    whose every use is a loop inside the ``with`` that opened ``f``."""
    lines = lines_of(read, method, facts.index)
    if lines is None:
        return False
    loops = facts.index.only_iterated(lines)
    if not loops or all(facts.index.keeps_every_item(loop) for loop in loops):
        return False  # used whole, or every line is kept anyway
    assert isinstance(read.func, cst.Attribute)
    source = read.func.value
    if isinstance(source, cst.Name) and any(
        facts.index.in_loop_body(use, loop) for use in facts.index.uses.get(source.value, ()) for loop in loops
    ):
        return False  # the loop also reads, writes or seeks the file: it cannot iterate it too
    opened_by = facts.with_statement(source)
    if opened_by is None:
        return True
    # Lines kept past the `with` are often rewritten into the same file:
    # reading them all first is then the point, not a mistake.
    return all(facts.index.is_within(loop, opened_by) for loop in loops)
