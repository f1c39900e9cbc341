"""The stored idempotency record: the whole document Redis keeps, and the
``response_data`` the SQL store keeps beside its columns (a receipt or a
rejection). Both are built from the same wire classes below, which pin the
document's fields whatever the core's records grow.

The Redis document also carries ``v`` (the format version) and
``expires_at_us``, the expiry in microseconds since the Unix epoch: the Lua
scripts of :mod:`order_adapters.redis.store` read ``token``, ``state`` and
``expires_at_us`` with ``cjson`` (Lua cannot parse RFC 3339 dates).

Version 2 writes decimals as JSON numbers; version 1 (the previous release)
wrote them as text and is still read, as is SQL ``response_data`` of that time.
``record_from_json(record_to_json(record)) == record`` for every record.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final
from uuid import UUID

import attrs

from order_adapters.wire.codec import Document, aware, converter, dumps, loads
from order_core.records import IdempotencyRecord, IdempotencyState, StoredRejection
from order_core.results import SubmitReceipt
from order_core.values import OrderStatus

__all__ = [
    "READABLE_VERSIONS",
    "RECORD_VERSION",
    "WireReceipt",
    "WireRecord",
    "WireRejection",
    "epoch_us",
    "record_from_json",
    "record_to_json",
    "response_from_document",
    "response_to_document",
]

#: The version written; bumped when the document changes incompatibly.
RECORD_VERSION: Final = 2
#: The versions read; any other is refused.
READABLE_VERSIONS: Final = frozenset({1, 2})

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


@attrs.frozen
class WireReceipt:
    order_id: UUID
    status: OrderStatus
    estimated_price: Decimal
    estimated_value: Decimal
    market_price: Decimal
    submitted_at: datetime
    replayed: bool


@attrs.frozen
class WireRejection:
    kind: str
    code: str
    message: str
    field: str | None
    limit: str | int | None
    value: str | int | None


@attrs.frozen
class WireRecord:
    v: int
    key: str
    user_id: UUID
    fingerprint: str
    state: IdempotencyState
    token: str
    created_at: datetime
    expires_at: datetime
    expires_at_us: int
    order_id: UUID | None
    receipt: WireReceipt | None
    rejection: WireRejection | None


def epoch_us(moment: datetime) -> int:
    """``moment`` as whole microseconds since the Unix epoch (exact)."""
    return (aware(moment) - _EPOCH) // _MICROSECOND


def _wire_receipt(receipt: SubmitReceipt | None) -> WireReceipt | None:
    return None if receipt is None else WireReceipt(**receipt._asdict())


def _wire_rejection(rejection: StoredRejection | None) -> WireRejection | None:
    return None if rejection is None else WireRejection(**rejection._asdict())


def _receipt(wire: WireReceipt | None) -> SubmitReceipt | None:
    return None if wire is None else SubmitReceipt(**attrs.asdict(wire, recurse=False))


def _rejection(wire: WireRejection | None) -> StoredRejection | None:
    return None if wire is None else StoredRejection(**attrs.asdict(wire, recurse=False))


# -- the Redis document --------------------------------------------------------------


def record_to_json(record: IdempotencyRecord) -> bytes:
    """The record as the compact JSON document Redis keeps (the same record
    always gives the same bytes, and so do records equal as values)."""
    wire = WireRecord(
        v=RECORD_VERSION,
        key=record.key,
        user_id=record.user_id,
        fingerprint=record.fingerprint,
        state=record.state,
        token=record.token,
        created_at=record.created_at,
        expires_at=record.expires_at,
        expires_at_us=epoch_us(record.expires_at),
        order_id=record.order_id,
        receipt=_wire_receipt(record.receipt),
        rejection=_wire_rejection(record.rejection),
    )
    return dumps(converter.unstructure(wire, WireRecord))


def record_from_json(data: str | bytes) -> IdempotencyRecord:
    """The record stored as ``data``. Raises ValueError for a document of an
    unknown version, and cattrs' errors for a malformed one."""
    document = loads(data)
    if not isinstance(document, dict) or document.get("v") not in READABLE_VERSIONS:
        raise ValueError(f"not an idempotency record of wire version {RECORD_VERSION} or older")
    wire = converter.structure(document, WireRecord)
    return IdempotencyRecord(
        key=wire.key,
        user_id=wire.user_id,
        fingerprint=wire.fingerprint,
        state=wire.state,
        token=wire.token,
        created_at=wire.created_at,
        expires_at=wire.expires_at,
        order_id=wire.order_id,
        receipt=_receipt(wire.receipt),
        rejection=_rejection(wire.rejection),
    )


# -- the SQL response_data -----------------------------------------------------------


def response_to_document(
    receipt: SubmitReceipt | None, rejection: StoredRejection | None
) -> Document | None:
    """What an idempotency record answers with: ``{"receipt": ...}``,
    ``{"rejection": ...}``, or None while it is pending."""
    if receipt is not None:
        # Stored as the first answer; a replay marks its own copy.
        wire_receipt = WireReceipt(**receipt._replace(replayed=False)._asdict())
        return {"receipt": converter.unstructure(wire_receipt, WireReceipt)}
    if rejection is not None:
        return {"rejection": converter.unstructure(_wire_rejection(rejection), WireRejection)}
    return None


def response_from_document(
    document: Document | None,
) -> tuple[SubmitReceipt | None, StoredRejection | None]:
    """The receipt or the rejection ``document`` holds (both None for none)."""
    if not document:
        return None, None
    if "receipt" in document:
        return _receipt(converter.structure(document["receipt"], WireReceipt)), None
    return None, _rejection(converter.structure(document["rejection"], WireRejection))
