"""Apply an executed order to the holding: the position keeper's part, when the
ledger is the service's own (the simulated one)."""

from __future__ import annotations

from uuid import UUID

from order_core.dependencies import Dependencies
from order_core.errors import ConcurrencyConflict
from order_core.values import OrderSide, OrderStatus

__all__ = ["apply_position_update"]


def apply_position_update(
    deps: Dependencies, order_id: UUID, *, handled: tuple[UUID, str] | None = None
) -> bool:
    """Move the holding by the executed order's quantity, once: the order
    records in the same transaction that its update was applied, so a second
    delivery (or a recovery pass) changes nothing. ``handled`` (message id,
    consumer) goes in the inbox with it. Whether it moved now."""
    with deps.unit_of_work() as uow:
        order = uow.orders.get(order_id)
        if order is None or order.status is not OrderStatus.EXECUTED:
            return False
        if order.position_applied_at is not None:
            return False
        uow.orders.lock_user(order.user_id)
        if not uow.orders.mark_position_applied(order_id, deps.clock.now()):
            return False  # another delivery applied it meanwhile
        quantity = order.quantity.value
        change = quantity if order.side is OrderSide.BUY else quantity.copy_negate()
        uow.ledger.move_position(order.user_id, order.symbol, change)
        if handled is not None:
            uow.inbox.record(*handled, deps.clock.now())
        try:
            uow.commit()
        except ConcurrencyConflict:
            uow.rollback()
            return False  # applied meanwhile: the mark was refused when it was sent
    return True
