"""Domain events, recorded by the Order aggregate and written to the outbox in the
same transaction as the order change that produced them.

Events are immutable named tuples (cheap to build on every execution, and
``_asdict()`` gives serialisers every field by name). Each starts with the same
seven fields; :data:`OrderEvent` is their union. Their names on the wire are the
seed's, see :func:`event_name`; the RabbitMQ JSON of docs/contracts.md
is built by the adapters from these plain records.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from order_core.values import OrderSide, OrderStatus, OrderType, Symbol

__all__ = [
    "EVENT_TYPES",
    "OrderCancelled",
    "OrderEvent",
    "OrderExecuted",
    "OrderFailed",
    "OrderSubmitted",
    "OutboxMessage",
    "event_name",
]


class OrderSubmitted(NamedTuple):
    """The order was accepted and stored PENDING; it now needs processing."""

    order_id: UUID
    user_id: UUID
    symbol: Symbol
    order_side: OrderSide
    order_type: OrderType
    quantity: Decimal
    occurred_at: datetime
    price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    created_at: datetime
    market_price_at_submission: Decimal | None
    market_data_timestamp: datetime | None


class OrderExecuted(NamedTuple):
    """The order was filled; position keepers apply it (docs/contracts.md)."""

    order_id: UUID
    user_id: UUID
    symbol: Symbol
    order_side: OrderSide
    order_type: OrderType
    quantity: Decimal
    occurred_at: datetime
    execution_price: Decimal
    executed_at: datetime
    total_value: Decimal
    market_price_at_exec: Decimal
    market_data_timestamp: datetime


class OrderFailed(NamedTuple):
    """The order ended FAILED; ``reason`` says why."""

    order_id: UUID
    user_id: UUID
    symbol: Symbol
    order_side: OrderSide
    order_type: OrderType
    quantity: Decimal
    occurred_at: datetime
    reason: str
    previous_status: OrderStatus


class OrderCancelled(NamedTuple):
    """The owner cancelled the order."""

    order_id: UUID
    user_id: UUID
    symbol: Symbol
    order_side: OrderSide
    order_type: OrderType
    quantity: Decimal
    occurred_at: datetime
    previous_status: OrderStatus


OrderEvent = OrderSubmitted | OrderExecuted | OrderFailed | OrderCancelled
"""Any order event; ``isinstance(x, OrderEvent)`` works on the union."""

#: The seed's event names, and the event class each names.
EVENT_TYPES: dict[str, type[OrderEvent]] = {
    "OrderSubmittedEvent": OrderSubmitted,
    "OrderExecutedEvent": OrderExecuted,
    "OrderFailedEvent": OrderFailed,
    "OrderCancelledEvent": OrderCancelled,
}
_NAMES: dict[type[OrderEvent], str] = {cls: name for name, cls in EVENT_TYPES.items()}


def event_name(event: OrderEvent) -> str:
    """The seed's name of the event (``OrderExecutedEvent`` and so on)."""
    return _NAMES[type(event)]


class OutboxMessage(NamedTuple):
    """An event waiting in the outbox. ``message_id`` is assigned once, when the
    event is written, and travels with every delivery attempt so consumers can
    drop duplicates."""

    message_id: UUID
    event: OrderEvent
