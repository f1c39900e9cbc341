"""Wiring of ``redis://``: the idempotency fast path in front of the database."""

from __future__ import annotations

from contextlib import ExitStack

from redis import ConnectionPool

from order_adapters.gates import DatabaseFallbackGate
from order_adapters.redis.store import RedisIdempotencyStore
from order_adapters.settings import RedisSettings, SettingsError
from order_adapters.urls import redacted
from order_core.ports import IdempotencyStore

__all__ = ["check", "open_gate"]


def check(settings: RedisSettings) -> None:
    """Parse the URL (connecting to nothing)."""
    assert settings.url is not None
    try:
        ConnectionPool.from_url(settings.url)
    except ValueError as error:
        raise SettingsError(
            f"{redacted(settings.url)!r} is not a Redis URL ({error}): use redis://host:6379/0",
            setting="redis_url",
        ) from None


def open_gate(settings: RedisSettings, resources: ExitStack) -> tuple[IdempotencyStore, str]:
    assert settings.url is not None
    store = RedisIdempotencyStore.from_url(
        settings.url,
        prefix=settings.prefix,
        socket_timeout=settings.timeout,
        socket_connect_timeout=settings.timeout,
        max_connections=settings.pool_size,
    )
    resources.callback(store.close)
    described = f"Redis at {redacted(settings.url)} in front of the database"
    if not settings.fallback:
        return store, described
    return DatabaseFallbackGate(store), described + " (falls back on it while Redis is down)"
