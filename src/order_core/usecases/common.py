"""The few steps the use cases share."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import ParamSpec
from uuid import UUID

from order_core.dependencies import Dependencies
from order_core.errors import DependencyUnavailable, OrderAccessDenied, OrderNotFound
from order_core.events import OutboxMessage
from order_core.order import Order
from order_core.ports import IdGenerator, UnitOfWork
from order_core.values import OrderSide

__all__ = ["load_order", "quietly", "release_holds", "stage_events", "undo_money"]

_P = ParamSpec("_P")


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


def quietly(call: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs) -> None:
    """Best-effort follow-up whose failure must not hide the outcome the caller
    already has: an expired claim or hold is reclaimed later anyway."""
    with contextlib.suppress(DependencyUnavailable):
        call(*args, **kwargs)
