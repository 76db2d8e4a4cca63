"""Leak family: memory that only grows."""

import atexit
import functools
import gc
import logging

_seen_requests = {}


def remember(request_id, payload):
    # Every request ever served stays in the module-level dict.
    _seen_requests[request_id] = payload


@functools.lru_cache(maxsize=None)
def render_profile(user_id, session_token):
    # One entry per user and session, kept for the life of the process.
    return f"<profile {user_id}>"


class AuditTrail:
    def __init__(self, path):
        self.log = logging.getLogger("audit")
        # Every AuditTrail stacks one more handler on the shared logger.
        self.log.addHandler(logging.FileHandler(path))
        # The atexit registry keeps every instance alive until exit.
        atexit.register(self.flush)

    def flush(self):
        self.log.info("audit trail closed")


def collect_metrics(source):
    samples = []
    while True:
        samples.append(source.read_sample())


def tag_order(order, tags=[]):
    tags.append(order["id"])
    return tags


def handle(request_id):
    log = logging.getLogger(f"request.{request_id}")
    log.info("handling")


def bulk_import(rows):
    gc.disable()
    for row in rows:
        remember(row["id"], row)
