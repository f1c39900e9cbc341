"""Wiring of ``redis://``: the idempotency fast path in front of the database."""

from __future__ import annotations

import logging
import re
from contextlib import ExitStack
from urllib.parse import unquote, urlsplit

from redis import ConnectionPool
from redis.exceptions import AuthenticationError, RedisError, ResponseError

from order_adapters.gates import DatabaseFallbackGate
from order_adapters.redis.store import RedisIdempotencyStore
from order_adapters.settings import RedisSettings, SettingsError
from order_adapters.urls import redacted
from order_core.ports import IdempotencyStore

__all__ = ["check", "open_gate"]

_log = logging.getLogger(__name__)
_FIX = "use redis://host:6379/0"


def check(settings: RedisSettings) -> None:
    """Parse the URL (connecting to nothing)."""
    assert settings.url is not None
    try:
        pool = ConnectionPool.from_url(settings.url)
    except ValueError as error:
        raise SettingsError(
            f"{redacted(settings.url)!r} is not a Redis URL ({error}): {_FIX}",
            setting="redis_url",
        ) from None
    # The driver reads "/abc" as database 0 and "/1/2" as 12: only a number will do.
    parts = urlsplit(settings.url)
    path = unquote(parts.path).strip("/") if parts.scheme in ("redis", "rediss") else ""
    database = pool.connection_kwargs.get("db", 0)
    if (
        (path and not re.fullmatch(r"[0-9]+", path))
        or not isinstance(database, int)
        or database < 0
    ):
        raise SettingsError(
            f"{redacted(settings.url)!r} is not a Redis URL: the database must be a number "
            f"(0 to 15 on a default server), got {path or database!r}: {_FIX}",
            setting="redis_url",
        )


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
    _check_server(store, settings.url)
    described = f"Redis at {redacted(settings.url)} in front of the database"
    if not settings.fallback:
        return store, described
    return DatabaseFallbackGate(store), described + " (falls back on it while Redis is down)"


def _check_server(store: RedisIdempotencyStore, url: str) -> None:
    """Connect once (the connection stays in the pool): a server that refuses
    the URL's database or credentials is a setting to fix, not a dependency
    down. A server that does not answer is judged when it is used: it fails
    submissions (exit 3), or the database decides alone with the fallback."""
    try:
        store.client.ping()
    except AuthenticationError as error:
        raise SettingsError(
            f"Redis at {redacted(url)} refused the credentials ({error})", setting="redis_url"
        ) from None
    except ResponseError as error:  # a command of the connection's set-up was refused
        fix = (
            ": use a database the server has (0 to 15 on a default server)"
            if "DB index" in str(error)  # SELECT: "DB index is out of range"
            else ""
        )
        raise SettingsError(
            f"Redis at {redacted(url)} refused the connection ({error}){fix}",
            setting="redis_url",
        ) from None
    except RedisError as error:
        _log.debug("Redis at %s does not answer yet: %s", redacted(url), error)
