"""Redis adapters: :class:`RedisIdempotencyStore`, the idempotency fast path in
front of the database's durable records (see ``docs/redis.md``).

Needs the ``redis`` extra: ``pip install 'order-service[redis]'``.
"""

try:
    import attrs  # noqa: F401
    import cattrs  # noqa: F401
    import msgspec  # noqa: F401
    import redis  # noqa: F401
except ImportError as missing:
    raise ImportError(
        "order_adapters.redis needs redis, attrs, cattrs and msgspec; install the extra with "
        "`pip install 'order-service[redis]'`"
    ) from missing

from order_adapters.redis.store import RedisIdempotencyStore

__all__ = ["RedisIdempotencyStore"]
