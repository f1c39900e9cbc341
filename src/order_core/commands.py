"""Commands as callers send them, and their checked form.

A :class:`SubmitOrder` may carry raw text and numbers (from a CLI, JSON or a
gRPC message); :meth:`SubmitOrder.parse` turns it into an :class:`OrderRequest`
of value objects or raises :class:`~order_core.errors.InvalidInput` naming the
first bad field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from order_core.order import check_prices_for_type
from order_core.values import OrderSide, OrderType, Price, Quantity, Symbol, parse_uuid

__all__ = ["Number", "OrderRequest", "SubmitOrder"]

Number = Decimal | int | float | str
"""A numeric input: floats are read through ``repr``, text as written."""


class OrderRequest(NamedTuple):
    """A well-formed order request: every field parsed, prices matching the type."""

    user_id: UUID
    symbol: Symbol
    order_type: OrderType
    side: OrderSide
    quantity: Quantity
    price: Price | None
    stop_price: Price | None


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    """Submit an order (``SubmitOrderRequest`` plus ``stop_price`` and an optional
    client ``idempotency_key``)."""

    user_id: UUID | str
    symbol: Symbol | str
    order_type: OrderType | str
    order_side: OrderSide | str
    quantity: Quantity | Number
    price: Price | Number | None = None
    stop_price: Price | Number | None = None
    idempotency_key: str | None = None

    def parse(self) -> OrderRequest:
        """Check every field; raises :class:`InvalidInput` for the first bad one."""
        order_type = OrderType.parse(self.order_type, field="order_type")
        price = None if self.price is None else Price.parse(self.price, field="price")
        stop_price = (
            None if self.stop_price is None else Price.parse(self.stop_price, field="stop_price")
        )
        request = OrderRequest(
            user_id=parse_uuid(self.user_id, field="user_id"),
            symbol=Symbol.parse(self.symbol),
            order_type=order_type,
            side=OrderSide.parse(self.order_side, field="order_side"),
            quantity=Quantity.parse(self.quantity),
            price=price,
            stop_price=stop_price,
        )
        check_prices_for_type(order_type, price, stop_price)
        return request
