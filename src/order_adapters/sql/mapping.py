"""Domain objects to statement parameters and result rows back: the SQL store's
one mapping between the plain domain classes and its tables (the domain knows
nothing of SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from order_adapters.sql.dialects import Dialect
from order_adapters.wire import (
    event_from_document,
    event_to_document,
    response_from_document,
    response_to_document,
)
from order_core.events import OutboxMessage
from order_core.order import Order
from order_core.records import IdempotencyRecord, IdempotencyState
from order_core.values import (
    SIDES_BY_VALUE,
    STATUSES_BY_VALUE,
    TYPES_BY_VALUE,
    Price,
    Quantity,
    Symbol,
)

__all__ = [
    "message_from_row",
    "message_params",
    "order_from_row",
    "order_params",
    "record_from_row",
    "record_params",
]

_T = TypeVar("_T")


def _present(value: _T | None) -> _T:
    """A NOT NULL column's value."""
    assert value is not None
    return value


def order_params(order: Order, d: Dialect) -> dict[str, Any]:
    money, time = d.money, d.time
    return {
        "id": d.uuid(order.id),
        "user_id": d.uuid(order.user_id),
        "symbol": str(order.symbol),
        "order_type": order.order_type._value_,
        "order_side": order.side._value_,
        "quantity": money(order.quantity.value),
        "price": money(order.price.value) if order.price is not None else None,
        "stop_price": money(order.stop_price.value) if order.stop_price is not None else None,
        "status": order.status._value_,
        "created_at": time(order.created_at),
        "updated_at": time(order.updated_at),
        "executed_at": time(order.executed_at),
        "execution_price": money(order.execution_price),
        "market_price_at_submission": money(order.market_price_at_submission),
        "market_data_timestamp": time(order.market_data_timestamp),
        "failure_reason": order.failure_reason,
        "triggered_at": time(order.triggered_at),
        "version": order.version,
        "attempts": order.attempts,
        "next_attempt_at": time(order.next_attempt_at),
        "position_applied_at": time(order.position_applied_at),
    }


def order_from_row(row: Sequence[Any], d: Dialect) -> Order:
    """An order from a row in ``schema.ORDER_COLUMNS`` order. Rows were written
    from valid orders, so it goes through the trusted :meth:`Order.restore`."""
    money, time = d.money_from, d.time_from
    price = money(row[6])
    stop_price = money(row[7])
    return Order.restore(
        _present(d.uuid_from(row[0])),
        _present(d.uuid_from(row[1])),
        Symbol(row[2]),
        SIDES_BY_VALUE[row[4]],
        TYPES_BY_VALUE[row[3]],
        Quantity(_present(money(row[5]))),
        None if price is None else Price(price),
        None if stop_price is None else Price(stop_price),
        STATUSES_BY_VALUE[row[8]],
        _present(time(row[9])),
        _present(time(row[10])),
        time(row[11]),
        money(row[12]),
        money(row[13]),
        time(row[14]),
        row[15],
        time(row[16]),
        row[17],
        row[18],
        time(row[19]),
        time(row[20]),
    )


def message_params(message: OutboxMessage, d: Dialect) -> dict[str, Any]:
    event_type, payload = event_to_document(message.event)
    return {
        "message_id": d.uuid(message.message_id),
        "event_type": event_type,
        "aggregate_id": d.uuid(message.event.order_id),
        "payload": d.json(payload),
        "created_at": d.time(message.event.occurred_at),
        "sent_at": None,
    }


def message_from_row(row: Sequence[Any], d: Dialect) -> tuple[int, OutboxMessage]:
    """(outbox row id, message) from ``id, message_id, event_type, payload``."""
    message_id = d.uuid_from(row[1])
    assert message_id is not None
    return row[0], OutboxMessage(message_id, event_from_document(row[2], d.json_from(row[3])))


def record_params(record: IdempotencyRecord, d: Dialect) -> dict[str, Any]:
    return {
        "idempotency_key": record.key,
        "order_id": d.uuid(record.order_id),
        "user_id": d.uuid(record.user_id),
        "status": record.state._value_,
        "response_data": d.json(response_to_document(record.receipt, record.rejection)),
        "created_at": d.time(record.created_at),
        "expires_at": d.time(record.expires_at),
        "request_fingerprint": record.fingerprint,
        "owner_token": record.token,
    }


def record_from_row(row: Sequence[Any], d: Dialect) -> IdempotencyRecord:
    """A record from a row in ``order_idempotency``'s column order."""
    receipt, rejection = response_from_document(d.json_from(row[4]))
    user_id, created_at, expires_at = d.uuid_from(row[2]), d.time_from(row[5]), d.time_from(row[6])
    assert user_id is not None  # NOT NULL columns
    assert created_at is not None
    assert expires_at is not None
    return IdempotencyRecord(
        key=row[0],
        user_id=user_id,
        fingerprint=row[7],
        state=IdempotencyState(row[3]),
        token=row[8],
        created_at=created_at,
        expires_at=expires_at,
        order_id=d.uuid_from(row[1]),
        receipt=receipt,
        rejection=rejection,
    )


def now_param(moment: datetime, d: Dialect) -> Any:
    return d.time(moment)
