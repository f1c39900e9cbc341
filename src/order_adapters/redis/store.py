"""The idempotency fast path in Redis: an :class:`~order_core.ports.IdempotencyStore`.

One key per idempotency key (``<prefix><user uuid>:<client key>``, or the
derived hash), holding the record as the JSON document of
:mod:`order_adapters.wire.idempotency`. ``begin`` is one ``SET key doc NX PX <ttl>``;
``reclaim``, ``finish`` and ``release`` are one Lua script each, which proves
ownership by the record's *token* (never by "the key existed") and checks its
state, exactly as the port's docstrings say. The key expires when the record
does, so Redis holds only the keys of the last TTL.

Redis is only the fast path: the database's unique key stays the truth (Redis
can lose acknowledged writes on failover). Every error meaning "the server
cannot serve us" surfaces as :class:`~order_core.errors.DependencyUnavailable`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self

import redis
from redis.backoff import NoBackoff
from redis.exceptions import (
    ClusterDownError,
    InvalidResponse,
    NoPermissionError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.retry import Retry

from order_adapters.wire import epoch_us, record_from_json, record_to_json
from order_core.errors import DependencyUnavailable
from order_core.records import IdempotencyRecord

__all__ = ["DEFAULT_PREFIX", "RedisIdempotencyStore"]

DEFAULT_PREFIX: Final = "orders:idem:"

_MICROSECOND = timedelta(microseconds=1)

# Every script reads the stored document's ``token``, ``state`` and
# ``expires_at_us`` (see order_adapters.wire.idempotency). An expiry is judged by
# the caller's clock (the claim's created_at), as the in-memory store does, not
# by Redis's.

# After ``SET NX`` failed: the key is held, but its record may have expired by
# the claim's clock while Redis (which counts its own time) still keeps it.
# KEYS[1] key; ARGV[1] claim; ARGV[2] claim.created_at (epoch us); ARGV[3] PX.
_BEGIN_HELD: Final = """
local held = redis.call('GET', KEYS[1])
-- Our own claim: the driver retried a SET whose reply was lost. It is stored.
if held == ARGV[1] then return false end
if held and cjson.decode(held).expires_at_us > tonumber(ARGV[2]) then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return false
"""

# Replace the PENDING record of ``stale`` (same token) with the claim; also
# claim a key that became free. KEYS[1] key; ARGV[1] claim; ARGV[2] stale
# token; ARGV[3] claim.created_at (epoch us); ARGV[4] PX.
_RECLAIM: Final = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then return false end
if held then
  local record = cjson.decode(held)
  if record.expires_at_us > tonumber(ARGV[3])
      and not (record.state == 'PENDING' and record.token == ARGV[2]) then
    return held
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return false
"""

# Store the final record over the PENDING one with the same token. Returns 1
# (stored), 0 (not the owner) or the stored final record with this token, which
# the caller compares (records equal as values may differ as text).
# The key keeps its expiry, moved by however far the final record's
# expires_at differs from the stored one's.
# KEYS[1] key; ARGV[1] final record; ARGV[2] its token; ARGV[3] its expires_at (epoch us).
_FINISH: Final = """
local held = redis.call('GET', KEYS[1])
if not held then return 0 end
if held == ARGV[1] then return 1 end
local record = cjson.decode(held)
if record.token ~= ARGV[2] then return 0 end
if record.state ~= 'PENDING' then return held end
local shift_us = tonumber(ARGV[3]) - record.expires_at_us
local ttl = -1
if shift_us ~= 0 then ttl = redis.call('PTTL', KEYS[1]) end
if ttl < 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', math.max(1, ttl + math.ceil(shift_us / 1000)))
end
return 1
"""

# Delete the PENDING record held by the token. KEYS[1] key; ARGV[1] token.
_RELEASE: Final = """
local held = redis.call('GET', KEYS[1])
if not held then return 0 end
local record = cjson.decode(held)
if record.token ~= ARGV[1] or record.state ~= 'PENDING' then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""

# The driver's errors that mean "this server cannot serve us now": nothing
# was decided, so the caller may retry (or fall back on the database).
_UNUSABLE: Final[tuple[type[RedisError], ...]] = (
    redis.exceptions.ConnectionError,  # refused, reset, auth, LOADING, pool exhausted
    redis.exceptions.TimeoutError,
    ReadOnlyError,  # a replica, e.g. the old primary after a failover
    OutOfMemoryError,  # maxmemory reached: writes refused
    NoPermissionError,  # an ACL forbids the command
    ClusterDownError,  # includes MASTERDOWN
    TryAgainError,
    InvalidResponse,  # the connection is out of step with the protocol
)


def _is_unusable(error: BaseException) -> bool:
    if isinstance(error, _UNUSABLE):
        return True
    # "BUSY Redis is busy running a script": another client's script is stuck.
    return isinstance(error, ResponseError) and str(error).startswith("BUSY")


class _DriverErrors:
    """``with _DRIVER_ERRORS:`` raises :class:`DependencyUnavailable` from the
    driver's unusable-server errors; any other error (a bug) passes unchanged.
    Stateless, so one instance serves every thread."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is not None and _is_unusable(exc):
            raise DependencyUnavailable("redis", f"{type(exc).__name__}: {exc}") from exc


_DRIVER_ERRORS: Final = _DriverErrors()


def _lifetime_ms(record: IdempotencyRecord) -> int:
    """The record's TTL in whole milliseconds, rounded up so the key never
    vanishes before ``expires_at``; at least 1 (Redis refuses ``PX 0``).

    Measured from ``created_at``, the caller's "now" for a claim: the key lives
    as long as the record does by the service's clock, whatever Redis's clock
    says (another host, or a test's manual clock)."""
    micros = (record.expires_at - record.created_at) // _MICROSECOND
    return max(1, -(-micros // 1000))


class RedisIdempotencyStore:
    """An :class:`~order_core.ports.IdempotencyStore` in Redis; thread-safe.

    ``client`` is a ``redis.Redis`` (``decode_responses`` either way); the store
    never closes a client it was given. :meth:`from_url` builds one with short
    timeouts and a bounded, blocking pool, which :meth:`close` closes.
    """

    def __init__(self, client: redis.Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = prefix
        self._owns_client = False
        self._begin_held = client.register_script(_BEGIN_HELD)
        self._reclaim = client.register_script(_RECLAIM)
        self._finish = client.register_script(_FINISH)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 0.5,
        socket_connect_timeout: float = 0.5,
        max_connections: int = 50,
        pool_timeout: float = 1.0,
        retries: int = 1,
    ) -> Self:
        """A store on its own connection pool to ``url`` (``redis://``,
        ``rediss://`` or ``unix://``).

        The timeouts are short because this is a fast path: a slow Redis should
        turn into :class:`DependencyUnavailable` quickly, not hold a submission.
        At most ``max_connections`` connections; a thread waits up to
        ``pool_timeout`` seconds for a free one. A command that failed on a
        broken connection is retried ``retries`` times at once (a pooled
        connection may have died since its last use). Repeating is safe: a
        claim or final record that is already stored counts as stored (only a
        repeated release, whose first attempt went through, reports False).
        """
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=pool_timeout,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_connect_timeout,
            retry=Retry(NoBackoff(), retries),
        )
        store = cls(redis.Redis.from_pool(pool), prefix=prefix)
        store._owns_client = True
        return store

    @property
    def client(self) -> redis.Redis:
        """The redis-py client; its pool carries the timeouts and the size."""
        return self._client

    @property
    def prefix(self) -> str:
        """What every key of this store starts with."""
        return self._prefix

    def close(self) -> None:
        """Close the connections, if :meth:`from_url` opened them."""
        if self._owns_client:
            self._client.close()

    # -- IdempotencyStore -----------------------------------------------------------

    def begin(self, claim: IdempotencyRecord) -> IdempotencyRecord | None:
        key = self._prefix + claim.key
        document = record_to_json(claim)
        ttl = _lifetime_ms(claim)
        with _DRIVER_ERRORS:
            if self._client.set(key, document, nx=True, px=ttl):
                return None
            held: object = self._begin_held(
                keys=[key], args=[document, epoch_us(claim.created_at), ttl]
            )
        return None if held is None else record_from_json(_text(held))

    def reclaim(
        self, stale: IdempotencyRecord, claim: IdempotencyRecord
    ) -> IdempotencyRecord | None:
        document = record_to_json(claim)
        args: list[bytes | str | int] = [
            document,
            stale.token,
            epoch_us(claim.created_at),
            _lifetime_ms(claim),
        ]
        with _DRIVER_ERRORS:
            held: object = self._reclaim(keys=[self._prefix + claim.key], args=args)
        return None if held is None else record_from_json(_text(held))

    def finish(self, record: IdempotencyRecord) -> bool:
        args: list[bytes | str | int] = [
            record_to_json(record),
            record.token,
            epoch_us(record.expires_at),
        ]
        with _DRIVER_ERRORS:
            outcome: object = self._finish(keys=[self._prefix + record.key], args=args)
        if isinstance(outcome, int):
            return outcome == 1
        # Already final with this token: done if it is this record, by value.
        return record_from_json(_text(outcome)) == record

    def release(self, key: str, token: str) -> bool:
        with _DRIVER_ERRORS:
            outcome: object = self._release(keys=[self._prefix + key], args=[token])
        return outcome == 1

    def get(self, key: str, now: datetime) -> IdempotencyRecord | None:
        with _DRIVER_ERRORS:
            held = self._client.get(self._prefix + key)
        if held is None:
            return None
        record = record_from_json(held)
        return record if now < record.expires_at else None


def _text(reply: object) -> str | bytes:
    if isinstance(reply, str | bytes):
        return reply
    raise TypeError(f"unexpected reply from a Redis script: {reply!r}")


if TYPE_CHECKING:
    from order_core.ports import IdempotencyStore

    def _implements(store: RedisIdempotencyStore) -> IdempotencyStore:
        return store
