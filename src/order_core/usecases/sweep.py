"""Sweep resting orders against current prices (docs/library.md, "Order types").

Run when prices move (or periodically): every PENDING order is looked at with
one batch price request, and those that execute now (or whose stop is crossed)
are processed. It also picks up any PENDING order whose processing message was
lost, and resumes PROCESSING orders left behind by a crashed worker, so no
order waits forever.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from order_core.dependencies import Dependencies
from order_core.order import Order
from order_core.records import Quote
from order_core.results import ProcessOutcome, SweepReport
from order_core.usecases.process import process_order
from order_core.values import OrderStatus, Symbol

__all__ = ["sweep_resting_orders"]


def sweep_resting_orders(
    deps: Dependencies,
    symbols: Iterable[Symbol] | None = None,
    *,
    resume_processing_after: timedelta = timedelta(minutes=5),
) -> SweepReport:
    """Process every PENDING order (of ``symbols``, or all) that the current
    prices make executable, and every PROCESSING order untouched for
    ``resume_processing_after``; report which executed and which failed."""
    wanted = None if symbols is None else list(symbols)
    stale_before = deps.clock.now() - resume_processing_after
    with deps.unit_of_work() as uow:
        resting = uow.orders.list_by_status(OrderStatus.PENDING, symbols=wanted)
        stuck = [
            order
            for order in uow.orders.list_by_status(OrderStatus.PROCESSING, symbols=wanted)
            if order.updated_at <= stale_before
        ]
    quotes = deps.market_data.get_quotes({order.symbol for order in resting})
    due: list[tuple[Order, Quote | None]] = []
    for order in resting:
        quote = quotes.get(order.symbol)
        if quote is not None:
            evaluation = order.evaluate(quote.price)
            if evaluation.execute or evaluation.newly_triggered:
                due.append((order, quote))
    due.extend((order, None) for order in stuck)
    executed, failed = [], []
    for order, quote in due:
        result = process_order(deps, order.id, quote=quote)
        if result.outcome is ProcessOutcome.EXECUTED:
            executed.append(order.id)
        elif result.outcome is ProcessOutcome.FAILED:
            failed.append(order.id)
    return SweepReport(
        examined=len(resting) + len(stuck), executed=tuple(executed), failed=tuple(failed)
    )
