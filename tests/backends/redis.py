"""The Redis backend for the idempotency contract suite.

Each store gets a key prefix no other run uses, and every key under it is
deleted afterwards: CI reuses one Redis server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from order_core.ports import IdempotencyStore
from tests.services import REDIS_URL, need, required, unique_name

try:
    import redis

    from order_adapters.redis import RedisIdempotencyStore
except ImportError as error:  # the extra is missing: the factory says so when used
    _MISSING: ImportError | None = error
else:
    _MISSING = None

__all__ = ["IDEMPOTENCY_STORES", "delete_keys", "keys_under", "redis_idempotency"]


def _pattern(prefix: str) -> str:
    """A SCAN pattern matching exactly the keys that start with ``prefix``."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", prefix) + "*"


def keys_under(client: redis.Redis, prefix: str) -> list[bytes]:
    return list(client.scan_iter(match=_pattern(prefix), count=1000))


def delete_keys(client: redis.Redis, prefix: str) -> int:
    """Delete every key under ``prefix`` (SCAN + DEL); returns how many went."""
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=_pattern(prefix), count=1000):
        batch.append(key)
        if len(batch) == 500:
            deleted += client.delete(*batch)
            batch.clear()
    if batch:
        deleted += client.delete(*batch)
    return deleted


@contextmanager
def redis_idempotency() -> Iterator[IdempotencyStore]:
    need("Redis")
    if _MISSING is not None:
        message = f"the redis extra is not installed ({_MISSING})"
        if required():
            pytest.fail(message + " (ORDERS_REQUIRE_SERVICES=1 forbids skipping)")
        pytest.skip(message)
    prefix = unique_name("orders:test:idem") + ":"
    store = RedisIdempotencyStore.from_url(REDIS_URL, prefix=prefix)
    cleaner = redis.Redis.from_url(REDIS_URL)
    try:
        yield store
    finally:
        store.close()
        delete_keys(cleaner, prefix)
        cleaner.close()


IDEMPOTENCY_STORES = {"redis": redis_idempotency}
