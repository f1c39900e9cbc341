"""Cancel an order."""

from __future__ import annotations

from uuid import UUID

from order_core.dependencies import Dependencies
from order_core.results import CancelReceipt
from order_core.usecases.common import load_order, release_holds, stage_events
from order_core.values import parse_uuid

__all__ = ["cancel_order"]


def cancel_order(deps: Dependencies, order_id: UUID | str, user_id: UUID | str) -> CancelReceipt:
    """Cancel the user's PENDING or PROCESSING order and release its holds.

    Raises :class:`~order_core.errors.OrderNotFound`,
    :class:`~order_core.errors.OrderAccessDenied` (another user's order),
    :class:`~order_core.errors.OrderNotCancellable` (terminal; names the status)
    and :class:`~order_core.errors.ConcurrencyConflict` when the order changed
    meanwhile (an execution won the race; nothing was cancelled).
    """
    order_uuid = parse_uuid(order_id, field="order_id")
    user_uuid = parse_uuid(user_id, field="user_id")
    with deps.unit_of_work() as uow:
        order = load_order(uow, order_uuid, user_uuid)
        now = deps.clock.now()
        order.cancel(now)
        # Released before the commit: if an execution wins the race instead, it
        # pays from cash (the hold was only a hold), never twice.
        release_holds(deps, order)
        uow.orders.update(order)
        stage_events(uow, order, deps.ids)
        uow.commit()
    return CancelReceipt(order_id=order.id, status=order.status, cancelled_at=now)
