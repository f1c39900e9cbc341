"""Pricing: what an order is estimated to cost at submit, and when and at what
price it executes (docs/library.md, "Order types").

* MARKET executes at once, at the market price.
* LIMIT executes when marketable (BUY: market <= limit; SELL: market >= limit),
  at the market price, which is the limit or better.
* STOP_LOSS triggers when the market crosses the stop (SELL: market <= stop;
  BUY: market >= stop) and then executes as a MARKET order.
* STOP_LIMIT triggers the same way and from then on behaves as a LIMIT order;
  the trigger is remembered, so a price that moves back does not un-trigger it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from order_core.decimals import multiply, round_amount
from order_core.values import PRICED_TYPES, OrderSide, OrderType

__all__ = [
    "EXECUTE_NOW",
    "Evaluation",
    "estimated_price",
    "evaluate",
    "is_marketable",
    "order_value",
    "stop_triggered",
]


def is_marketable(side: OrderSide, limit: Decimal, market: Decimal) -> bool:
    """A limit order can fill now: BUY at or below its limit, SELL at or above."""
    return market <= limit if side is OrderSide.BUY else market >= limit


def stop_triggered(side: OrderSide, stop: Decimal, market: Decimal) -> bool:
    """A stop has been crossed: SELL when the market falls to the stop, BUY when it rises."""
    return market <= stop if side is OrderSide.SELL else market >= stop


class Evaluation(NamedTuple):
    """The outcome of looking at an order against a market price."""

    execute: bool
    newly_triggered: bool = False


EXECUTE_NOW = Evaluation(execute=True)
_REST = Evaluation(execute=False)


def evaluate(
    order_type: OrderType,
    side: OrderSide,
    *,
    limit: Decimal | None,
    stop: Decimal | None,
    already_triggered: bool,
    market: Decimal,
) -> Evaluation:
    """Decide whether an order executes at ``market`` now, and whether its stop
    triggers now for the first time."""
    if order_type is OrderType.MARKET:
        return EXECUTE_NOW
    if order_type is OrderType.LIMIT:
        assert limit is not None
        return EXECUTE_NOW if is_marketable(side, limit, market) else _REST
    assert stop is not None
    triggered_now = not already_triggered and stop_triggered(side, stop, market)
    if not (already_triggered or triggered_now):
        return _REST
    if order_type is OrderType.STOP_LOSS:
        return Evaluation(execute=True, newly_triggered=triggered_now)
    assert limit is not None
    return Evaluation(execute=is_marketable(side, limit, market), newly_triggered=triggered_now)


def estimated_price(
    order_type: OrderType, *, limit: Decimal | None, stop: Decimal | None, market: Decimal
) -> Decimal:
    """The price an order is expected to fill at, used for its estimated value,
    the balance check and the reservation: the limit for LIMIT and STOP_LIMIT,
    the stop for STOP_LOSS, the market price for MARKET."""
    if order_type in PRICED_TYPES:
        assert limit is not None
        return limit
    if order_type is OrderType.STOP_LOSS:
        assert stop is not None
        return stop
    return market


def order_value(quantity: Decimal, price: Decimal) -> Decimal:
    """quantity x price, rounded half-even to 8 places."""
    return round_amount(multiply(quantity, price))
