"""What every use case is given, and the few steps they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from order_core.errors import OrderAccessDenied, OrderNotFound
from order_core.events import OutboxMessage
from order_core.order import Order
from order_core.policy import OrderPolicy
from order_core.ports import (
    Accounts,
    Balances,
    Clock,
    IdempotencyStore,
    IdGenerator,
    MarketData,
    Positions,
    UnitOfWork,
    UnitOfWorkFactory,
)
from order_core.values import OrderSide

__all__ = ["Dependencies", "load_order", "release_holds", "stage_events", "undo_money"]


@dataclass(frozen=True, slots=True)
class Dependencies:
    """The ports the use cases run against, resolved once at an entry point.

    ``idempotency_gate`` is an optional fast store (Redis) consulted before the
    database; without one the durable records in the unit of work decide alone.
    """

    unit_of_work: UnitOfWorkFactory
    market_data: MarketData
    accounts: Accounts
    balances: Balances
    positions: Positions
    clock: Clock
    ids: IdGenerator
    policy: OrderPolicy = field(default_factory=OrderPolicy)
    idempotency_gate: IdempotencyStore | None = None


def load_order(uow: UnitOfWork, order_id: UUID, user_id: UUID | None) -> Order:
    """The order, checked to belong to ``user_id`` when one is given."""
    order = uow.orders.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    if user_id is not None and order.user_id != user_id:
        raise OrderAccessDenied(order_id)
    return order


def stage_events(uow: UnitOfWork, order: Order, ids: IdGenerator) -> None:
    """Move the order's recorded events into the unit of work's outbox, each
    with the message id it keeps for every delivery."""
    events = order.pull_events()
    if len(events) == 1:  # the usual case
        uow.outbox.add((OutboxMessage(ids.new_id(), events[0]),))
    elif events:
        uow.outbox.add([OutboxMessage(ids.new_id(), event) for event in events])


def release_holds(deps: Dependencies, order: Order) -> None:
    """Let go of what the order held: cash for a BUY, the quantity for a SELL."""
    if order.side is OrderSide.BUY:
        deps.balances.release(order.user_id, order.id)
    else:
        deps.positions.release(order.user_id, order.id)


def undo_money(deps: Dependencies, order: Order) -> None:
    """Compensate for an order that will never execute: reverse any settlement
    and release its holds (each step is a no-op when there is nothing to undo)."""
    deps.balances.reverse(order.user_id, order.id)
    if order.side is OrderSide.SELL:
        deps.positions.release(order.user_id, order.id)
