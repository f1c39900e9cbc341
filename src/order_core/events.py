"""Domain events, recorded by the Order aggregate and written to the outbox in the
same transaction as the order change that produced them.

The event names are the seed's (002 §2.5). Their wire shapes (the RabbitMQ JSON
of 000 §3.2/§3.3) are built by the adapters from these plain records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar
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
]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent:
    """What every order event says: which order, whose, what it trades, and when."""

    event_type: ClassVar[str] = "OrderEvent"

    order_id: UUID
    user_id: UUID
    symbol: Symbol
    order_side: OrderSide
    order_type: OrderType
    quantity: Decimal
    occurred_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSubmitted(OrderEvent):
    """The order was accepted and stored PENDING; it now needs processing."""

    event_type: ClassVar[str] = "OrderSubmittedEvent"

    price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    created_at: datetime
    market_price_at_submission: Decimal | None
    market_data_timestamp: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExecuted(OrderEvent):
    """The order was filled; position keepers apply it (000 §3.2.3)."""

    event_type: ClassVar[str] = "OrderExecutedEvent"

    execution_price: Decimal
    executed_at: datetime
    total_value: Decimal
    market_price_at_exec: Decimal
    market_data_timestamp: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFailed(OrderEvent):
    """The order ended FAILED; ``reason`` says why."""

    event_type: ClassVar[str] = "OrderFailedEvent"

    reason: str
    previous_status: OrderStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled(OrderEvent):
    """The owner cancelled the order."""

    event_type: ClassVar[str] = "OrderCancelledEvent"

    previous_status: OrderStatus


EVENT_TYPES: dict[str, type[OrderEvent]] = {
    cls.event_type: cls for cls in (OrderSubmitted, OrderExecuted, OrderFailed, OrderCancelled)
}


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """An event waiting in the outbox. ``message_id`` is assigned once, when the
    event is written, and travels with every delivery attempt so consumers can
    drop duplicates."""

    message_id: UUID
    event: OrderEvent
