"""Identifiers that name per-request or per-object data (``request_id``, ``conn.peer``, ``url``)."""

from __future__ import annotations

from typing import Final

import libcst as cst

# Words of identifiers whose values are, by the usual naming, different on
# every request, message or object: an open-ended set of values.
PER_CALL_WORDS: Final = frozenset({
    "id", "ids", "uuid", "guid", "pid", "tid", "ident", "token", "session", "sid", "request", "req", "response",
    "user", "username", "client", "conn", "connection", "sock", "socket", "addr", "address", "host", "hostname",
    "port", "peer", "ip", "url", "uri", "link", "page", "job", "task", "tenant", "account", "email", "self",
    "query", "text", "content", "body", "data", "payload", "message", "msg", "record", "row", "event", "document",
    "doc", "html", "sql", "instance", "obj", "environ",
})


def per_call_identifier(identifier: str) -> bool:
    """``request_id``, ``userId``-less ``user_email``, ``page``: any ``_``-separated
    word in PER_CALL_WORDS, or a word ending in ``id`` (``jobid``)."""
    words = [w for w in identifier.lower().split("_") if w]
    return any(w in PER_CALL_WORDS or (w.endswith("s") and w[:-1] in PER_CALL_WORDS)
               or (w.endswith("id") and len(w) > 3) for w in words)


def identifiers(expr: cst.BaseExpression) -> list[str]:
    """The identifiers of a Name/Attribute chain: ``request.user.id`` gives ``[id, user, request]``."""
    found = []
    while isinstance(expr, cst.Attribute):
        found.append(expr.attr.value)
        expr = expr.value
    if isinstance(expr, cst.Name):
        found.append(expr.value)
    return found


# Words of identifiers that name *who or which one* a request is about (an id,
# a peer, a user, a session), as opposed to its content (`message`, `text`,
# `query`): a set keyed by them gains one entry per request, while one keyed by
# content may be bounded by the program's own messages (a warn-once set).
IDENTITY_WORDS: Final = frozenset({
    "id", "ids", "uuid", "guid", "ident", "token", "session", "sid", "user", "username", "client", "conn",
    "connection", "addr", "address", "ip", "peer", "tenant", "account", "email",
})


def identity_identifier(identifier: str) -> bool:
    """``message_id``, ``client_ip``, ``peer``, ``trade_id``: a word in
    IDENTITY_WORDS, or a word ending in ``id`` (``jobid``)."""
    words = [w for w in identifier.lower().split("_") if w]
    return any(w in IDENTITY_WORDS or (w.endswith("id") and len(w) > 3) for w in words)


# Parameter words of a handler: a function given one request, message, event
# or connection runs once per request, message, event or connection.
HANDLER_WORDS: Final = frozenset({
    "request", "req", "message", "msg", "event", "conn", "connection", "environ", "payload",
})


def handler_parameter(identifier: str) -> bool:
    """``request``, ``raw_msg``, ``conn``: an ``_``-separated word in HANDLER_WORDS."""
    return any(word in HANDLER_WORDS for word in identifier.lower().split("_"))
