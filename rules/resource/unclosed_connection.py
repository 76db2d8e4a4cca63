"""MEM202 unclosed-connection."""

from __future__ import annotations

from memlint.rules.resource._base import MESSAGES, ResourceRule
from memlint.rules.resource._lifetime.findings import Reason
from memlint.analysis.resources import CONNECTIONS, trigger_words
from memlint.diagnostic import Family


class UnclosedConnection(ResourceRule):
    """Flags sockets, database connections and HTTP clients never closed on some path.

    ## What it does
    Follows every connection created by `socket.socket`/`create_connection`/
    `socketpair`, `sqlite3.connect`, `urllib.request.urlopen`,
    `http.client.HTTP(S)Connection`, `ftplib`, `smtplib`, `poplib`, `imaplib`,
    `requests.Session`, `httpx.Client`/`AsyncClient`, `aiohttp.ClientSession`,
    `multiprocessing.connection.Client`/`Listener` and
    `selectors.DefaultSelector` (resolved through imports and aliases), and
    reports it when it is used once and dropped (`urlopen(url).read()`), bound
    to a local that is never closed (`close()`, `quit()` for mail and FTP
    clients, `await client.aclose()`), re-bound before it is closed, closed on
    some paths only, or stored on `self` by a class whose teardown method never
    closes it.

    `with sqlite3.connect(db) as conn:` does **not** close the connection: a
    sqlite3 connection's `with` only commits or rolls back. Use
    `contextlib.closing` or call `close()`.

    A connection returned to the caller, stored on an object or in a
    container, handed to another call (`ssl_context.wrap_socket(sock)`), used
    as a `with`/`async with` item or closed in a `finally` is fine.

    ## Why is this bad?
    Each open connection holds a socket (a descriptor, kernel buffers, a
    server-side slot) or a database handle with its locks until the garbage
    collector gets to it. A server that leaks one per request runs out of
    descriptors or exhausts the peer's connection limit; a leaked sqlite3
    connection can keep the database locked.

    ## Example
    ```python
    import sqlite3

    def count_users(db_path):
        with sqlite3.connect(db_path) as conn:
            return conn.execute("SELECT count(*) FROM users").fetchone()[0]
    ```

    ```python
    import socket

    def probe(host, port):
        sock = socket.create_connection((host, port), timeout=2)
        sock.sendall(b"PING\\r\\n")
        return sock.recv(64)
    ```

    ## Use instead
    ```python
    import sqlite3
    from contextlib import closing

    def count_users(db_path):
        with closing(sqlite3.connect(db_path)) as conn:
            return conn.execute("SELECT count(*) FROM users").fetchone()[0]
    ```

    ```python
    import socket

    def probe(host, port):
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"PING\\r\\n")
            return sock.recv(64)
    ```

    ## Options
    - `strict` (shared by MEM201-MEM204): also report connections closed on
      every normal path but not in a `finally` or `with` (default false).

    ## Known limitations
    Only local names are followed; a connection stored elsewhere is assumed
    to be closed by its new owner. Responses of a session (`session.get(...)`)
    are not tracked, only the session itself.
    Creations expected to fail are skipped: inside `assertRaises`/`pytest.raises`
    or `mock.patch` blocks, and a bare creation probed in a `try` with handlers.
    """

    code = "MEM202"
    name = "unclosed-connection"
    family = Family.RESOURCE
    # The rule's one-line summary; what a finding says is its reason's entry in `messages`.
    message = "connection is never closed: use `with` or close it in a `finally`"
    # What a finding says: the family's message for its reason (MESSAGES in _base.py),
    # and one of this rule's own: sqlite3's `with` only commits.
    messages = {
        **MESSAGES,
        Reason.WITH_ONLY_COMMITS: "{what} used in `with` is never {verb}: its `with` only commits: {consequence}; {cure}",
    }
    resources = CONNECTIONS
    triggers = trigger_words(CONNECTIONS)
    seed = "a connection that is never closed"
