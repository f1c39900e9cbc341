"""Cancel an order."""

from __future__ import annotations

from uuid import UUID

from order_core.dependencies import Dependencies
from order_core.errors import ConcurrencyConflict
from order_core.results import CancelReceipt
from order_core.usecases.common import load_order, release_cash, write
from order_core.values import parse_uuid

__all__ = ["cancel_order"]


def cancel_order(deps: Dependencies, order_id: UUID | str, user_id: UUID | str) -> CancelReceipt:
    """Cancel the user's PENDING or PROCESSING order, letting go of its hold in
    the same transaction. The order's versioned write decides a race with an
    execution: the loser changes nothing.

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
        uow.orders.lock_user(order.user_id)
        expected_version = order.version
        now = deps.clock.now()
        order.cancel(now)
        release_cash(uow, order)
        if not write(deps, uow, order):
            raise ConcurrencyConflict(order.id, expected_version)
    return CancelReceipt(order_id=order.id, status=order.status, cancelled_at=now)
