"""The JSON document an idempotency record is stored as in Redis.

The wire shape is a set of frozen, slotted attrs classes, converted by one
cattrs :data:`converter`: decimals as plain-notation strings (exact), datetimes
as ISO-8601 with their UTC offset, UUIDs as strings and enums by value. The
document also carries ``v`` (the format version) and ``expires_at_us``, the
expiry in microseconds since the Unix epoch: the Lua scripts in
:mod:`order_adapters.redis.store` read ``token``, ``state`` and
``expires_at_us`` from it with ``cjson`` (Lua cannot parse ISO dates).

``record_from_json(record_to_json(record)) == record`` for every record.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs
from cattrs import Converter
from cattrs.strategies import configure_union_passthrough

from order_core.results import SubmitReceipt
from order_core.rules.idempotency import IdempotencyRecord, IdempotencyState, StoredRejection
from order_core.values import OrderStatus

__all__ = [
    "WIRE_VERSION",
    "WireReceipt",
    "WireRecord",
    "WireRejection",
    "converter",
    "epoch_us",
    "record_from_json",
    "record_to_json",
]

#: Bumped when the document changes incompatibly; older documents are refused.
WIRE_VERSION = 1

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


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
    return (_aware(moment) - _EPOCH) // _MICROSECOND


def _aware(moment: datetime) -> datetime:
    # A naive datetime would be read back in some other zone: refuse it.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"idempotency records need timezone-aware datetimes, got {moment!r}")
    return moment


def _decimal_from_text(value: object, _: type[Decimal]) -> Decimal:
    # Only text is exact: a JSON number would have gone through a float.
    if not isinstance(value, str):
        raise TypeError(f"a decimal must be stored as text, got {value!r}")
    return Decimal(value)


def _datetime_from_text(value: object, _: type[datetime]) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"a datetime must be stored as ISO-8601 text, got {value!r}")
    return _aware(datetime.fromisoformat(value))


def _uuid_from_text(value: object, _: type[UUID]) -> UUID:
    if not isinstance(value, str):
        raise TypeError(f"a UUID must be stored as text, got {value!r}")
    return UUID(value)


def _make_converter() -> Converter:
    made = Converter()
    # Plain notation ("0.00000001", not "1E-8"): exact, and readable in redis-cli.
    made.register_unstructure_hook(Decimal, lambda value: format(value, "f"))
    made.register_structure_hook(Decimal, _decimal_from_text)
    made.register_unstructure_hook(datetime, lambda moment: _aware(moment).isoformat())
    made.register_structure_hook(datetime, _datetime_from_text)
    made.register_unstructure_hook(UUID, str)
    made.register_structure_hook(UUID, _uuid_from_text)
    # ``str | int | None`` (a rejection's limit and value) keeps its JSON type.
    configure_union_passthrough(str | int | None, made)
    return made


#: The one converter between the wire classes and JSON-ready dicts.
converter = _make_converter()


def _to_wire(record: IdempotencyRecord) -> WireRecord:
    receipt, rejection = record.receipt, record.rejection
    return WireRecord(
        v=WIRE_VERSION,
        key=record.key,
        user_id=record.user_id,
        fingerprint=record.fingerprint,
        state=record.state,
        token=record.token,
        created_at=record.created_at,
        expires_at=record.expires_at,
        expires_at_us=epoch_us(record.expires_at),
        order_id=record.order_id,
        receipt=None if receipt is None else WireReceipt(**receipt._asdict()),
        rejection=None if rejection is None else WireRejection(**rejection._asdict()),
    )


def _from_wire(wire: WireRecord) -> IdempotencyRecord:
    receipt, rejection = wire.receipt, wire.rejection
    return IdempotencyRecord(
        key=wire.key,
        user_id=wire.user_id,
        fingerprint=wire.fingerprint,
        state=wire.state,
        token=wire.token,
        created_at=wire.created_at,
        expires_at=wire.expires_at,
        order_id=wire.order_id,
        receipt=None if receipt is None else SubmitReceipt(**attrs.asdict(receipt, recurse=False)),
        rejection=(
            None if rejection is None else StoredRejection(**attrs.asdict(rejection, recurse=False))
        ),
    )


def record_to_json(record: IdempotencyRecord) -> str:
    """The record as compact JSON text (the same record always gives the same text)."""
    document = converter.unstructure(_to_wire(record))
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def record_from_json(text: str | bytes) -> IdempotencyRecord:
    """The record stored as ``text``. Raises ValueError for a document of another
    format version, and cattrs' errors for a malformed one."""
    document: Any = json.loads(text)
    if not isinstance(document, dict) or document.get("v") != WIRE_VERSION:
        raise ValueError(f"not an idempotency record of wire version {WIRE_VERSION}")
    return _from_wire(converter.structure(document, WireRecord))
