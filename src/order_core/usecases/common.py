"""The few steps the use cases share."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import ParamSpec
from uuid import UUID

from order_core.dependencies import Dependencies
from order_core.errors import (
    ConcurrencyConflict,
    DependencyUnavailable,
    OrderAccessDenied,
    OrderNotFound,
)
from order_core.events import OutboxMessage
from order_core.order import Order
from order_core.ports import IdGenerator, UnitOfWork
from order_core.values import OrderSide

__all__ = ["load_order", "quietly", "release_cash", "stage_events", "write"]

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


def release_cash(uow: UnitOfWork, order: Order) -> None:
    """Let go of the cash a BUY held: it ended unexecuted (in this transaction)."""
    if order.side is OrderSide.BUY:
        uow.ledger.release(order.user_id, order.id, order.cash_held)


def write(deps: Dependencies, uow: UnitOfWork, order: Order) -> bool:
    """Update the order, stage its events and commit, with whatever else the
    transaction moved; False (and nothing written) when another writer
    changed the order first."""
    try:
        uow.orders.update(order)
        stage_events(uow, order, deps.ids)
        uow.commit()
    except ConcurrencyConflict:
        uow.rollback()
        return False
    return True


def quietly(call: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs) -> None:
    """Best-effort follow-up whose failure must not hide the outcome the caller
    already has (a gate told what the database decided, say)."""
    with contextlib.suppress(DependencyUnavailable):
        call(*args, **kwargs)
