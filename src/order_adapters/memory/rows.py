"""How the in-memory stores keep their data: rows of plain values.

Like a real database, the stores keep rows, not live domain objects: a caller
can never alias stored state, and a tuple of ints, strings, decimals and
datetimes is invisible to Python's cyclic garbage collector, so millions of
stored orders cost no collection time. UUIDs are kept as their 128-bit ints
and enums as their values.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Final, TypeVar
from uuid import UUID

from order_core.order import Order
from order_core.records import IdempotencyRecord, IdempotencyState, StoredRejection
from order_core.results import SubmitReceipt
from order_core.values import (
    SIDES_BY_VALUE,
    STATUSES_BY_VALUE,
    TYPES_BY_VALUE,
    OrderStatus,
    Price,
    Quantity,
    Symbol,
)

# Stored symbols were valid when written: rebuild them through the cache, unchecked.
symbol_of = functools.lru_cache(maxsize=4096)(Symbol)

__all__ = [
    "OrderRow",
    "Table",
    "RecordRow",
    "order_from_row",
    "order_to_row",
    "record_from_row",
    "record_to_row",
    "uuid_from_int",
]

_K = TypeVar("_K")
_V = TypeVar("_V")
_new = object.__new__
_set = object.__setattr__  # UUID, Quantity and Price refuse plain assignment
_SAFE_UNKNOWN = uuid.SafeUUID.unknown


class Table(dict[_K, _V]):
    """A dict that holds a store's rows.

    A subclass only so that the garbage collector leaves it alone: CPython
    untracks an *exact* dict whose entries are all untracked, and re-tracks it
    as young the moment a new row goes in, so a big table of rows would be
    rescanned by every young collection. This one stays tracked, settles in
    the oldest generation and is scanned only by full collections.
    """

    __slots__ = ()


def uuid_from_int(number: int) -> UUID:
    """The UUID with this 128-bit value, built without re-validating it."""
    identifier = _new(UUID)
    _set(identifier, "int", number)
    _set(identifier, "is_safe", _SAFE_UNKNOWN)
    return identifier


_Amount = TypeVar("_Amount", Quantity, Price)


def _amount(cls: type[_Amount], value: Decimal) -> _Amount:
    amount = _new(cls)
    _set(amount, "value", value)
    return amount


# id, user_id, symbol, side, type, quantity, price, stop_price, status,
# created_at, updated_at, executed_at, execution_price,
# market_price_at_submission, market_data_timestamp, failure_reason,
# triggered_at, version, attempts, next_attempt_at, position_applied_at
OrderRow = tuple[
    int,
    int,
    str,
    str,
    str,
    Decimal,
    Decimal | None,
    Decimal | None,
    str,
    datetime,
    datetime,
    datetime | None,
    Decimal | None,
    Decimal | None,
    datetime | None,
    str | None,
    datetime | None,
    int,
    int,
    datetime | None,
    datetime | None,
]
# Column positions (Final, so the type checker knows each column's type).
ID: Final = 0
USER: Final = 1
SYMBOL: Final = 2
SIDE: Final = 3
TYPE: Final = 4
QUANTITY: Final = 5
STATUS: Final = 8
CREATED_AT: Final = 9
UPDATED_AT: Final = 10
EXECUTED_AT: Final = 11
VERSION: Final = 17
NEXT_ATTEMPT_AT: Final = 19
POSITION_APPLIED_AT: Final = 20


def order_to_row(order: Order) -> OrderRow:
    return (
        order.id.int,
        order.user_id.int,
        str.__str__(order.symbol),
        order.side._value_,  # the member attribute: .value is a slow property
        order.order_type._value_,
        order.quantity.value,
        order.price.value if order.price is not None else None,
        order.stop_price.value if order.stop_price is not None else None,
        order.status._value_,
        order.created_at,
        order.updated_at,
        order.executed_at,
        order.execution_price,
        order.market_price_at_submission,
        order.market_data_timestamp,
        order.failure_reason,
        order.triggered_at,
        order.version,
        order.attempts,
        order.next_attempt_at,
        order.position_applied_at,
    )


def order_from_row(row: OrderRow) -> Order:
    """Rebuild a stored order. Rows are written only from valid orders, so it
    goes through the trusted :meth:`Order.restore`."""
    price, stop_price = row[6], row[7]
    return Order.restore(
        uuid_from_int(row[0]),
        uuid_from_int(row[1]),
        symbol_of(row[2]),
        SIDES_BY_VALUE[row[3]],
        TYPES_BY_VALUE[row[4]],
        _amount(Quantity, row[5]),
        None if price is None else _amount(Price, price),
        None if stop_price is None else _amount(Price, stop_price),
        STATUSES_BY_VALUE[row[8]],
        row[9],
        row[10],
        row[11],
        row[12],
        row[13],
        row[14],
        row[15],
        row[16],
        row[17],
        row[18],
        row[19],
        row[20],
    )


# key, user_id, fingerprint, state, token, created_at, expires_at, order_id,
# receipt (order_id, status, estimated_price, estimated_value, market_price,
# submitted_at), rejection (kind, code, message, field, limit, value)
ReceiptRow = tuple[int, str, Decimal, Decimal, Decimal, datetime]
RejectionRow = tuple[str, str, str, str | None, str | int | None, str | int | None]
RecordRow = tuple[
    str,
    int,
    str,
    str,
    str,
    datetime,
    datetime,
    int | None,
    ReceiptRow | None,
    RejectionRow | None,
]
STATE: Final = 3
TOKEN: Final = 4
EXPIRES_AT: Final = 6


def record_to_row(record: IdempotencyRecord) -> RecordRow:
    receipt, rejection = record.receipt, record.rejection
    return (
        record.key,
        record.user_id.int,
        record.fingerprint,
        record.state._value_,
        record.token,
        record.created_at,
        record.expires_at,
        None if record.order_id is None else record.order_id.int,
        None
        if receipt is None
        else (
            receipt.order_id.int,
            receipt.status._value_,
            receipt.estimated_price,
            receipt.estimated_value,
            receipt.market_price,
            receipt.submitted_at,
        ),
        None
        if rejection is None
        else (
            rejection.kind,
            rejection.code,
            rejection.message,
            rejection.field,
            rejection.limit,
            rejection.value,
        ),
    )


def record_from_row(row: RecordRow) -> IdempotencyRecord:
    receipt, rejection = row[8], row[9]
    return IdempotencyRecord(
        key=row[0],
        user_id=uuid_from_int(row[1]),
        fingerprint=row[2],
        state=IdempotencyState(row[3]),
        token=row[4],
        created_at=row[5],
        expires_at=row[6],
        order_id=None if row[7] is None else uuid_from_int(row[7]),
        receipt=None
        if receipt is None
        else SubmitReceipt(
            order_id=uuid_from_int(receipt[0]),
            status=OrderStatus(receipt[1]),
            estimated_price=receipt[2],
            estimated_value=receipt[3],
            market_price=receipt[4],
            submitted_at=receipt[5],
        ),
        rejection=None if rejection is None else StoredRejection(*rejection),
    )
