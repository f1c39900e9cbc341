"""Risk management: order value and quantity caps, the daily order
count, the balance a BUY needs, and the largest position a BUY may build. Each
check raises :class:`~order_core.errors.RiskRejected` with a stable code, the
field, the limit and the offending value."""

from __future__ import annotations

from decimal import Decimal

from order_core.commands import OrderRequest
from order_core.decimals import add, format_decimal
from order_core.errors import InsufficientBalance, RejectionCode, RiskRejected
from order_core.policy import RiskPolicy
from order_core.values import OrderSide

__all__ = ["check_risk"]


def check_risk(
    request: OrderRequest,
    policy: RiskPolicy,
    *,
    order_value: Decimal,
    orders_today: int,
    available_balance: Decimal,
    position_after_open_buys: Decimal,
) -> None:
    """Raise the first risk rule the order breaks, if any.

    ``order_value`` is quantity x estimated price; ``orders_today`` counts the
    user's orders since midnight UTC, this one not included; the balance
    available and the position held plus open BUYs are only consulted for BUY.
    """
    quantity = request.quantity.value
    if order_value > policy.max_order_value:
        raise RiskRejected(
            f"order value {format_decimal(order_value)} exceeds the maximum "
            f"{format_decimal(policy.max_order_value)}",
            code=RejectionCode.MAX_ORDER_VALUE_EXCEEDED,
            field="quantity",
            limit=policy.max_order_value,
            value=order_value,
        )
    if quantity > policy.max_order_quantity:
        raise RiskRejected(
            f"quantity {request.quantity} exceeds the maximum per order "
            f"{format_decimal(policy.max_order_quantity)}",
            code=RejectionCode.MAX_ORDER_QUANTITY_EXCEEDED,
            field="quantity",
            limit=policy.max_order_quantity,
            value=quantity,
        )
    if orders_today >= policy.max_daily_orders:
        raise RiskRejected(
            f"daily order limit of {policy.max_daily_orders} reached",
            code=RejectionCode.DAILY_ORDER_LIMIT_REACHED,
            field="user_id",
            limit=policy.max_daily_orders,
            value=orders_today + 1,
        )
    if request.side is OrderSide.BUY:
        if order_value > available_balance:
            raise InsufficientBalance(available=available_balance, required=order_value)
        resulting = add(position_after_open_buys, quantity)
        if resulting > policy.max_position_quantity:
            raise RiskRejected(
                f"position in {request.symbol} would reach {format_decimal(resulting)}, above "
                f"the maximum {format_decimal(policy.max_position_quantity)}",
                code=RejectionCode.MAX_POSITION_EXCEEDED,
                field="quantity",
                limit=policy.max_position_quantity,
                value=resulting,
            )
