"""Sweep resting orders against current prices (docs/library.md, "Order types").

Run when prices move (or periodically): every PENDING order is looked at with
one batch price request, and those that execute now (or whose stop is crossed)
are processed.
"""

from __future__ import annotations

from collections.abc import Iterable

from order_core.dependencies import Dependencies
from order_core.order import Order
from order_core.records import Quote
from order_core.results import ProcessOutcome, SweepReport
from order_core.usecases.process import process_order
from order_core.values import OrderStatus, Symbol

__all__ = ["sweep_resting_orders"]


def sweep_resting_orders(
    deps: Dependencies, symbols: Iterable[Symbol] | None = None
) -> SweepReport:
    """Process every PENDING order (of ``symbols``, or all) that the current
    prices make executable; report which executed and which failed. Work left
    behind by a crashed process is recovery's (:mod:`order_core.usecases.recovery`)."""
    wanted = None if symbols is None else list(symbols)
    with deps.unit_of_work() as uow:
        resting = uow.orders.list_by_status(OrderStatus.PENDING, symbols=wanted)
    quotes = deps.market_data.get_quotes({order.symbol for order in resting})
    due: list[tuple[Order, Quote]] = []
    for order in resting:
        quote = quotes.get(order.symbol)
        if quote is not None:
            evaluation = order.evaluate(quote.price)
            if evaluation.execute or evaluation.newly_triggered:
                due.append((order, quote))
    executed, failed = [], []
    for order, quote in due:
        result = process_order(deps, order.id, quote=quote)
        if result.outcome is ProcessOutcome.EXECUTED:
            executed.append(order.id)
        elif result.outcome is ProcessOutcome.FAILED:
            failed.append(order.id)
    return SweepReport(examined=len(resting), executed=tuple(executed), failed=tuple(failed))
