"""What creates a resource, which rule owns it, and what releases it.

One table for the whole resource family (MEM201-MEM204) and for the rules
that need to know which values are files (MEM401/MEM402). Keys are
qualified names as ``memlint.tree.names`` spells them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import libcst as cst


@dataclass(frozen=True, slots=True)
class ResourceKind:
    """A kind of resource: the rule that reports it and how it is released."""

    code: str
    label: str  # how messages name it, e.g. "file", "subprocess.Popen"
    release: frozenset[str]  # methods that release it
    cure: str  # the fix, in a message fragment
    verb: str = "closed"  # "is never <verb>"
    consequence: str = "its descriptor stays open until garbage collection"
    # False where the type's own `with` does not release it (sqlite3's only commits).
    with_releases: bool = True
    # Clients that connect lazily hold nothing until one of these is called
    # (`http.client.HTTPConnection` connects on `request()`).
    opens_on: frozenset[str] = frozenset()
    # ... unless the constructor is given an address (`smtplib.SMTP(host)`).
    opens_with_arguments: bool = False
    # Reading it to its end releases it: `resp.read()` with no size, or a
    # consumer of READ_TO_END_CONSUMERS.
    released_at_end: bool = False


_FILE = ResourceKind("MEM201", "file", frozenset({"close"}), "use `with ... as f:` so it is closed on every path")
_TEMPDIR = ResourceKind(
    "MEM201", "temporary directory", frozenset({"cleanup"}), "use `with tempfile.TemporaryDirectory() as d:`",
    verb="cleaned up", consequence="the directory stays on disk until garbage collection",
)
_MMAP = ResourceKind("MEM201", "memory map", frozenset({"close"}), "use `with mmap.mmap(...) as m:`")
_CONNECTION = ResourceKind(
    "MEM202", "connection", frozenset({"close", "aclose"}), "use `with` or close it in a `finally`",
    consequence="the socket stays open until garbage collection",
)
# Mail and FTP clients close their socket on `quit()` (IMAP: `logout()`) as well.
_MAIL = ResourceKind(
    "MEM202", "connection", frozenset({"close", "quit", "logout"}), "use `with` or call `quit()` in a `finally`",
    consequence="the socket stays open until garbage collection",
    opens_on=frozenset({"connect"}), opens_with_arguments=True,
)
_HTTP = ResourceKind(
    "MEM202", "connection", frozenset({"close"}), "use `with` or close it in a `finally`",
    consequence="the socket stays open until garbage collection",
    opens_on=frozenset({"connect", "request", "putrequest", "endheaders", "send"}),
)
# An HTTP response of `urlopen`: urllib closes the connection's own reference
# to the socket before returning the response (`AbstractHTTPHandler.do_open`),
# so the response alone holds the descriptor, and `http.client.HTTPResponse`
# closes it as soon as a read reaches the end of the body (`_close_conn` in
# `read()`, also for chunked bodies and for sized reads that come back empty).
_HTTP_RESPONSE = ResourceKind(
    "MEM202", "connection", frozenset({"close", "aclose"}), "use `with` or close it in a `finally`",
    consequence="the socket stays open until garbage collection", released_at_end=True,
)
_SELECTOR = ResourceKind(
    "MEM202", "selector", frozenset({"close"}), "use `with` or close it in a `finally`",
    consequence="its epoll/kqueue descriptor stays open until garbage collection",
)
_SQLITE = ResourceKind(
    "MEM202", "sqlite3 connection", frozenset({"close"}),
    "close it in a `finally` or use `with contextlib.closing(sqlite3.connect(...))` (its own `with` only commits)",
    consequence="the database stays open (and may stay locked) until garbage collection",
    with_releases=False,
)
_POPEN = ResourceKind(
    "MEM203", "subprocess.Popen", frozenset({"wait", "communicate", "poll"}),
    "use `with subprocess.Popen(...) as p:` or call `p.communicate()`",
    verb="waited", consequence="the child becomes a zombie and its pipes stay open",
)
# asyncio's Process is not a context manager: only awaiting `wait()` or
# `communicate()` reaps the child (asyncio/subprocess.py).
_ASYNC_PROCESS = ResourceKind(
    "MEM203", "asyncio subprocess", frozenset({"wait", "communicate"}),
    "`await proc.wait()` (or `proc.communicate()`) on every path, in a `finally` if it may be cancelled",
    verb="waited", consequence="the child becomes a zombie and its pipes stay open",
)
_EXECUTOR = ResourceKind(
    "MEM204", "executor", frozenset({"shutdown"}),
    "use `with ThreadPoolExecutor() as pool:` or call `pool.shutdown()`",
    verb="shut down", consequence="its worker threads or processes live until the interpreter exits",
)
_POOL = ResourceKind(
    "MEM204", "process pool", frozenset({"close", "terminate"}),
    "use `with Pool() as pool:` or call `pool.close()` and `pool.join()`",
    verb="closed", consequence="its worker processes live until the interpreter exits",
)

FILE_OPENERS: Final[dict[str, ResourceKind]] = {
    "builtins.open": _FILE,
    "io.open": _FILE,
    "io.FileIO": _FILE,
    "codecs.open": _FILE,
    "os.fdopen": _FILE,
    "pathlib.Path().open": _FILE,
    "pathlib.PurePath().open": _FILE,
    "gzip.open": _FILE,
    "gzip.GzipFile": _FILE,
    "bz2.open": _FILE,
    "bz2.BZ2File": _FILE,
    "lzma.open": _FILE,
    "lzma.LZMAFile": _FILE,
    "tarfile.open": _FILE,
    "tarfile.TarFile": _FILE,
    "tarfile.TarFile.open": _FILE,
    "zipfile.ZipFile": _FILE,
    "tempfile.TemporaryFile": _FILE,
    "tempfile.NamedTemporaryFile": _FILE,
    "tempfile.SpooledTemporaryFile": _FILE,
    "tempfile.TemporaryDirectory": _TEMPDIR,
    "mmap.mmap": _MMAP,
    "wave.open": _FILE,
    "shelve.open": _FILE,
    "dbm.open": _FILE,
}

CONNECTIONS: Final[dict[str, ResourceKind]] = {
    "socket.socket": _CONNECTION,
    "socket.create_connection": _CONNECTION,
    "socket.socketpair": _CONNECTION,
    "sqlite3.connect": _SQLITE,
    "urllib.request.urlopen": _HTTP_RESPONSE,
    "http.client.HTTPConnection": _HTTP,
    "http.client.HTTPSConnection": _HTTP,
    "ftplib.FTP": _MAIL,
    "ftplib.FTP_TLS": _MAIL,
    "smtplib.SMTP": _MAIL,
    "smtplib.SMTP_SSL": _MAIL,
    "smtplib.LMTP": _MAIL,
    "poplib.POP3": _MAIL,
    "poplib.POP3_SSL": _MAIL,
    "imaplib.IMAP4": _MAIL,
    "imaplib.IMAP4_SSL": _MAIL,
    "requests.Session": _CONNECTION,
    "requests.session": _CONNECTION,
    "httpx.Client": _CONNECTION,
    "httpx.AsyncClient": _CONNECTION,
    "aiohttp.ClientSession": _CONNECTION,
    "multiprocessing.connection.Client": _CONNECTION,
    "multiprocessing.connection.Listener": _CONNECTION,
    "selectors.DefaultSelector": _SELECTOR,
}

PROCESSES: Final[dict[str, ResourceKind]] = {
    "subprocess.Popen": _POPEN,
    "asyncio.create_subprocess_exec": _ASYNC_PROCESS,
    "asyncio.create_subprocess_shell": _ASYNC_PROCESS,
    "asyncio.subprocess.create_subprocess_exec": _ASYNC_PROCESS,
    "asyncio.subprocess.create_subprocess_shell": _ASYNC_PROCESS,
}

EXECUTORS: Final[dict[str, ResourceKind]] = {
    "concurrent.futures.ThreadPoolExecutor": _EXECUTOR,
    "concurrent.futures.ProcessPoolExecutor": _EXECUTOR,
    "concurrent.futures.thread.ThreadPoolExecutor": _EXECUTOR,
    "concurrent.futures.process.ProcessPoolExecutor": _EXECUTOR,
    "multiprocessing.Pool": _POOL,
    "multiprocessing.pool.Pool": _POOL,
    "multiprocessing.pool.ThreadPool": _POOL,
    "multiprocessing.dummy.Pool": _POOL,
    "multiprocessing.get_context().Pool": _POOL,
}

RESOURCES: Final[dict[str, ResourceKind]] = {**FILE_OPENERS, **CONNECTIONS, **PROCESSES, **EXECUTORS}


def is_lazy(call: cst.Call, kind: ResourceKind) -> bool:
    """Whether this call creates a client that holds nothing yet."""
    if not kind.opens_on:
        return False
    given_address = any(arg.keyword is None or arg.keyword.value == "host" for arg in call.args)
    return not (kind.opens_with_arguments and given_address)


# Calls whose result is an in-memory buffer: a file object wrapping one holds no descriptor.
_MEMORY_BUFFERS: Final = frozenset({"BytesIO", "StringIO"})


def wraps_borrowed_object(call: cst.Call) -> bool:
    """``gzip.GzipFile(fileobj=f)``, ``zipfile.ZipFile(io.BytesIO(data))``: the
    object wraps a stream its caller owns or an in-memory buffer, and holds no
    descriptor of its own."""
    for arg in call.args:
        keyword = arg.keyword.value if arg.keyword is not None else None
        if keyword == "fileobj":
            return True
        if keyword == "closefd" and isinstance(arg.value, cst.Name) and arg.value.value == "False":
            return True  # `open(fd, closefd=False)`: the descriptor stays its owner's
    first = call.args[0].value if call.args and call.args[0].keyword is None else None
    if isinstance(first, cst.Call):
        func = first.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        return name in _MEMORY_BUFFERS
    return False


def resource_kind(qualified_name: str | None) -> ResourceKind | None:
    """The kind of resource a call to ``qualified_name`` creates, if any."""
    if qualified_name is None:
        return None
    return RESOURCES.get(qualified_name)


def trigger_words(table: dict[str, ResourceKind]) -> tuple[str, ...]:
    """Words one of which a file must contain to create any resource of ``table``."""
    return tuple(sorted({name.rsplit(".", 1)[-1].removesuffix("()") for name in table}))


# Functions that use a resource passed to them but never close it or keep it:
# `json.load(open(p))` still leaks the file.
# Methods that read a stream to its end when called with no size.
READ_TO_END_METHODS: Final = frozenset({"read"})
# Consumers that read their first argument to its end (`json.load` calls
# `fp.read()`; `shutil.copyfileobj` reads until a read comes back empty).
READ_TO_END_CONSUMERS: Final = frozenset({"json.load", "shutil.copyfileobj"})

NON_OWNING_CONSUMERS: Final[frozenset[str]] = frozenset({
    "json.load", "pickle.load", "marshal.load", "tomllib.load", "plistlib.load",
    "json.dump", "pickle.dump", "marshal.dump", "plistlib.dump", "yaml.dump", "yaml.safe_dump", "yaml.dump_all",
    # `iter(functools.partial(f.read, 65536), b"")`: the chunked-read idiom keeps `f` local.
    "functools.partial",
    "yaml.load", "yaml.safe_load", "yaml.full_load", "yaml.unsafe_load",
    "yaml.load_all", "yaml.safe_load_all",
    "csv.reader", "csv.writer", "csv.DictReader", "csv.DictWriter",
    "shutil.copyfileobj", "hashlib.file_digest", "os.kill", "collections.deque",
    "builtins.print", "builtins.len", "builtins.iter", "builtins.next", "builtins.list",
    "builtins.tuple", "builtins.set", "builtins.frozenset", "builtins.sorted", "builtins.enumerate",
    "builtins.zip", "builtins.map", "builtins.filter", "builtins.sum", "builtins.min", "builtins.max",
    "builtins.any", "builtins.all", "builtins.reversed", "builtins.isinstance", "builtins.id",
    "builtins.repr", "builtins.str", "builtins.hash", "builtins.bool", "builtins.type",
})

# Methods, whatever the receiver, that use an argument without keeping it.
NON_OWNING_METHODS: Final[frozenset[str]] = frozenset({"run_in_executor"})

# Calls that take over the release of their argument.
RELEASING_WRAPPERS: Final[frozenset[str]] = frozenset({"contextlib.closing", "contextlib.aclosing"})
# Methods (of an `ExitStack`, whatever its name) that release their argument.
RELEASING_METHODS: Final[frozenset[str]] = frozenset({"enter_context", "enter_async_context"})
# Methods that register a callback run at exit: `stack.callback(f.close)`.
CALLBACK_METHODS: Final[frozenset[str]] = frozenset({"callback", "push_async_callback", "addCleanup", "addAsyncCleanup"})
