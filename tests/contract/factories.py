"""Orders, events and records for the contract suites."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from order_core import (
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Price,
    Quantity,
    SubmitReceipt,
    Symbol,
)
from order_core.records import IdempotencyRecord, IdempotencyState, StoredRejection

T0 = datetime(2025, 11, 4, 10, 0, tzinfo=UTC)
USER_A = UUID("00000000-0000-4000-8000-0000000000aa")
USER_B = UUID("00000000-0000-4000-8000-0000000000bb")
_ids = itertools.count(1)


def new_id() -> UUID:
    return UUID(int=(0x4000 << 64) | (0x8000 << 48) | (0xC0FFEE << 32) | next(_ids))


def make_order(
    *,
    user: UUID = USER_A,
    symbol: str = "AAPL",
    side: OrderSide = OrderSide.BUY,
    order_type: OrderType = OrderType.LIMIT,
    quantity: str = "0.12345678",
    price: str | None = "123456789.12345678",
    stop_price: str | None = None,
    at: datetime = T0,
    status: OrderStatus = OrderStatus.PENDING,
) -> Order:
    """A new order (events pulled) whose decimals exercise the columns' full range."""
    order = Order.place(
        id=new_id(),
        user_id=user,
        symbol=Symbol(symbol),
        side=side,
        order_type=order_type,
        quantity=Quantity.parse(quantity),
        price=None if price is None else Price.parse(price),
        stop_price=None if stop_price is None else Price.parse(stop_price, field="stop_price"),
        market_price=Decimal("9999999999.99999999"),
        market_data_timestamp=at - timedelta(microseconds=1),
        now=at,
    )
    order.pull_events()
    if status is OrderStatus.PENDING:
        return order
    execution_price = (
        Decimal("150.00000001")
        if status in (OrderStatus.PROCESSING, OrderStatus.EXECUTED)
        else None
    )
    return restored_in(order, status, execution_price=execution_price)


def restored_in(order: Order, status: OrderStatus, *, execution_price: Decimal | None) -> Order:
    """``order`` as a store would restore it in ``status``: tests need orders in
    every state without walking the state machine there."""
    return Order.restore(
        order.id,
        order.user_id,
        order.symbol,
        order.side,
        order.order_type,
        order.quantity,
        order.price,
        order.stop_price,
        status,
        order.created_at,
        order.updated_at,
        order.executed_at,
        execution_price,
        order.market_price_at_submission,
        order.market_data_timestamp,
        order.failure_reason,
        order.triggered_at,
        order.version,
    )


def make_record(
    key: str = "user:key",
    *,
    state: IdempotencyState = IdempotencyState.PENDING,
    token: str = "token-1",
    at: datetime = T0,
    ttl: timedelta = timedelta(hours=24),
    fingerprint: str = "v1|AAPL|LIMIT|BUY|1.00000000|150.00000000|",
) -> IdempotencyRecord:
    record = IdempotencyRecord.pending(
        key=key, user_id=USER_A, fingerprint=fingerprint, token=token, now=at, ttl=ttl
    )
    if state is IdempotencyState.COMPLETED:
        return record.completed(receipt())
    if state is IdempotencyState.FAILED:
        return record.failed(rejection())
    return record


def receipt() -> SubmitReceipt:
    return SubmitReceipt(
        order_id=UUID("00000000-0000-4000-8000-00000000beef"),
        status=OrderStatus.PENDING,
        estimated_price=Decimal("150.12345678"),
        estimated_value=Decimal("9999999999.99999999"),
        market_price=Decimal("0.00000001"),
        submitted_at=T0,
    )


def rejection() -> StoredRejection:
    return StoredRejection(
        kind="risk",
        code="INSUFFICIENT_BALANCE",
        message="insufficient balance: the order needs 1500, 10.5 is available",
        field="quantity",
        limit="10.5",
        value="1500",
    )
