"""Leak family: memory that only grows."""

import functools
import gc
import logging

_seen_requests = {}


def remember(request_id, payload):
    # Every request ever served stays in the module-level dict.
    _seen_requests[request_id] = payload


@functools.lru_cache(maxsize=None)
def price_for(sku, currency):
    return len(sku) * 1.5 if currency == "EUR" else len(sku) * 1.7


class CustomerRepository:
    @functools.lru_cache(maxsize=256)
    def lookup(self, customer_id):
        # The cache keeps `self` (and the whole repository) alive forever.
        return {"id": customer_id}


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
