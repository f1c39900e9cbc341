"""Read an order: details, status, history (the gRPC responses of docs/contracts.md).
Every query checks that the order belongs to the asking user."""

from __future__ import annotations

from uuid import UUID

from order_core.dependencies import Dependencies
from order_core.errors import InvalidInput
from order_core.records import OrderActivity
from order_core.results import HistoryPage, OrderDetails, OrderStatusView, status_message
from order_core.usecases.common import load_order
from order_core.values import OrderStatus, Symbol, parse_uuid

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "get_order_details",
    "get_order_history",
    "get_pending_quantities",
    "get_order_status",
]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def get_order_details(
    deps: Dependencies, order_id: UUID | str, user_id: UUID | str
) -> OrderDetails:
    """Everything about one of the user's orders."""
    order_uuid = parse_uuid(order_id, field="order_id")
    user_uuid = parse_uuid(user_id, field="user_id")
    with deps.unit_of_work() as uow:
        return OrderDetails.of(load_order(uow, order_uuid, user_uuid))


def get_order_status(
    deps: Dependencies, order_id: UUID | str, user_id: UUID | str
) -> OrderStatusView:
    """The status of one of the user's orders, with a sentence explaining it."""
    order_uuid = parse_uuid(order_id, field="order_id")
    user_uuid = parse_uuid(user_id, field="user_id")
    with deps.unit_of_work() as uow:
        order = load_order(uow, order_uuid, user_uuid)
    return OrderStatusView(
        order_id=order.id,
        status=order.status,
        status_message=status_message(order),
        updated_at=order.updated_at,
    )


def get_pending_quantities(
    deps: Dependencies, user_id: UUID | str, symbol: Symbol | str
) -> OrderActivity:
    """How much of ``symbol`` the user's orders are still to buy and to sell
    (open orders and executed ones not applied to the holding yet): what a
    holding is committed to beyond what it shows."""
    user_uuid = parse_uuid(user_id, field="user_id")
    wanted = Symbol.parse(symbol)
    with deps.unit_of_work() as uow:
        return uow.orders.activity(user_uuid, wanted, since=deps.clock.now())


def get_order_history(
    deps: Dependencies,
    user_id: UUID | str,
    *,
    limit: int | None = None,
    offset: int | None = None,
    status: OrderStatus | str | None = None,
) -> HistoryPage:
    """One page of the user's orders, newest first, with the total count.

    ``limit`` is 1-100 (default 20), ``offset`` >= 0 (default 0); ``status``
    filters by status.
    """
    user_uuid = parse_uuid(user_id, field="user_id")
    page_size = DEFAULT_PAGE_SIZE if limit is None else _bounded("limit", limit, 1, MAX_PAGE_SIZE)
    start = 0 if offset is None else _bounded("offset", offset, 0, None)
    wanted = None if status is None else OrderStatus.parse(status, field="status")
    with deps.unit_of_work() as uow:
        page = uow.orders.history(user_uuid, limit=page_size, offset=start, status=wanted)
    return HistoryPage(
        orders=tuple(OrderDetails.of(order) for order in page.orders),
        total_count=page.total_count,
        limit=page_size,
        offset=start,
    )


def _bounded(field: str, value: object, low: int, high: int | None) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        allowed = f"{low} to {high}" if high is not None else f"at least {low}"
        raise InvalidInput(
            f"{field} must be a whole number, {allowed}; got {value!r}",
            code="OUT_OF_RANGE",
            field=field,
            limit=high if high is not None else low,
            value=str(value),
        )
    return value
