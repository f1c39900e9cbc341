"""Every JSON document the service writes, encoded and decoded here: one
converter (:mod:`~order_adapters.wire.codec`), one module per document.

- :mod:`~order_adapters.wire.outbox`: the outbox payload of each order event.
- :mod:`~order_adapters.wire.idempotency`: the stored idempotency record (the
  whole Redis document, and the SQL ``response_data``).

Decimals are exact JSON numbers in plain notation, times RFC 3339 with their
UTC offset, UUIDs text, enums their values. Needs attrs, cattrs and msgspec,
which the ``sql``, ``redis`` and ``rabbitmq`` extras bring.
"""

try:
    import attrs  # noqa: F401
    import cattrs  # noqa: F401
    import msgspec  # noqa: F401
except ImportError as missing:
    raise ImportError(
        "order_adapters.wire needs attrs, cattrs and msgspec; install an extra that uses it, "
        "e.g. `pip install 'order-service[sql]'`"
    ) from missing

from order_adapters.wire.codec import Document, dumps, loads
from order_adapters.wire.idempotency import (
    epoch_us,
    record_from_json,
    record_to_json,
    response_from_document,
    response_to_document,
)
from order_adapters.wire.outbox import event_from_document, event_to_document

__all__ = [
    "Document",
    "dumps",
    "epoch_us",
    "event_from_document",
    "event_to_document",
    "loads",
    "record_from_json",
    "record_to_json",
    "response_from_document",
    "response_to_document",
]
