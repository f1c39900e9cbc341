"""What the use cases return: immutable views shaped like the seed's gRPC
responses (docs/contracts.md), so every adapter maps them field by field.

They are named tuples: immutable, cheap to build on the hot path, and with
``_asdict()`` for serialisers and ``_replace()`` for derived copies.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple
from uuid import UUID

from order_core.decimals import format_decimal
from order_core.order import Order
from order_core.values import OrderSide, OrderStatus, OrderType

__all__ = [
    "CancelReceipt",
    "Discrepancy",
    "HistoryPage",
    "OrderDetails",
    "OrderStatusView",
    "ProcessOutcome",
    "ProcessResult",
    "RecoveryReport",
    "SubmitReceipt",
    "SweepReport",
    "status_message",
]


class SubmitReceipt(NamedTuple):
    """The answer to a submission (``SubmitOrderResponse``). ``replayed`` is True
    when an earlier submission with the same idempotency key is being returned."""

    order_id: UUID
    status: OrderStatus
    estimated_price: Decimal
    estimated_value: Decimal
    market_price: Decimal
    submitted_at: datetime
    replayed: bool = False


class OrderDetails(NamedTuple):
    """Everything about one order (``OrderDetails`` plus ``stop_price``,
    ``failure_reason``, ``triggered_at`` and ``version``)."""

    order_id: UUID
    user_id: UUID
    symbol: str
    order_type: OrderType
    order_side: OrderSide
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    executed_at: datetime | None
    execution_price: Decimal | None
    market_price_at_submission: Decimal | None
    market_data_timestamp: datetime | None
    estimated_value: Decimal | None
    execution_value: Decimal | None
    failure_reason: str | None
    triggered_at: datetime | None
    version: int

    @classmethod
    def of(cls, order: Order) -> OrderDetails:
        return cls(
            order_id=order.id,
            user_id=order.user_id,
            symbol=order.symbol.value,
            order_type=order.order_type,
            order_side=order.side,
            quantity=order.quantity.value,
            price=order.price.value if order.price else None,
            stop_price=order.stop_price.value if order.stop_price else None,
            status=order.status,
            created_at=order.created_at,
            updated_at=order.updated_at,
            executed_at=order.executed_at,
            execution_price=order.execution_price if order.status is OrderStatus.EXECUTED else None,
            market_price_at_submission=order.market_price_at_submission,
            market_data_timestamp=order.market_data_timestamp,
            estimated_value=order.estimated_value,
            execution_value=order.execution_value,
            failure_reason=order.failure_reason,
            triggered_at=order.triggered_at,
            version=order.version,
        )


def status_message(order: Order) -> str:
    """A sentence for people: what the status means for this order now."""
    status = order.status
    if status is OrderStatus.PENDING:
        if order.order_type is OrderType.LIMIT:
            assert order.price is not None
            return f"Waiting for the market to reach the limit price {order.price}"
        if order.order_type.needs_stop_price and order.triggered_at is None:
            assert order.stop_price is not None
            return f"Waiting for the market to reach the stop price {order.stop_price}"
        if order.order_type is OrderType.STOP_LIMIT:
            assert order.price is not None
            return f"Stop triggered; waiting for the market to reach the limit price {order.price}"
        return "Order accepted and waiting to be executed"
    if status is OrderStatus.PROCESSING:
        return "Order is being executed"
    if status is OrderStatus.EXECUTED:
        assert order.execution_price is not None
        return f"Order executed at {format_decimal(order.execution_price)}"
    if status is OrderStatus.FAILED:
        return f"Order failed: {order.failure_reason or 'no reason recorded'}"
    return "Order cancelled"


class OrderStatusView(NamedTuple):
    """``GetOrderStatusResponse``: the status with a sentence explaining it."""

    order_id: UUID
    status: OrderStatus
    status_message: str
    updated_at: datetime


class CancelReceipt(NamedTuple):
    """``CancelOrderResponse``."""

    order_id: UUID
    status: OrderStatus
    cancelled_at: datetime


class HistoryPage(NamedTuple):
    """``GetOrderHistoryResponse``: one page, newest first, and how many orders
    match in all."""

    orders: tuple[OrderDetails, ...]
    total_count: int
    limit: int
    offset: int


class ProcessOutcome(StrEnum):
    EXECUTED = "EXECUTED"
    RESTING = "RESTING"
    """Not executable at the current price (or the market is closed): still PENDING."""
    FAILED = "FAILED"
    ALREADY_FINAL = "ALREADY_FINAL"
    """The order was terminal before this attempt (a duplicate delivery)."""
    SUPERSEDED = "SUPERSEDED"
    """Another writer (a cancel) changed the order first; any settlement was reversed."""


class ProcessResult(NamedTuple):
    order_id: UUID
    outcome: ProcessOutcome
    status: OrderStatus


class RecoveryReport(NamedTuple):
    """What a recovery pass found and did, by order id."""

    examined: int
    executed: tuple[UUID, ...]
    failed: tuple[UUID, ...]
    #: Processed again and still waiting for their price (or an open market).
    resting: tuple[UUID, ...]
    #: A dependency is still down: their next attempt is scheduled.
    retrying: tuple[UUID, ...]
    positions_applied: tuple[UUID, ...]
    #: Executed, position update not applied, and nobody here applies it.
    positions_unapplied: tuple[UUID, ...]


class Discrepancy(NamedTuple):
    """Something the books do not agree on, with the orders involved."""

    user_id: UUID
    #: ``cash``, ``held``, ``overdrawn``, ``position`` or ``oversold``.
    kind: str
    symbol: str | None
    expected: Decimal
    actual: Decimal
    order_ids: tuple[UUID, ...]
    message: str


class SweepReport(NamedTuple):
    """What a sweep over resting orders did."""

    examined: int
    executed: tuple[UUID, ...]
    failed: tuple[UUID, ...]
