"""Process an order, and fail one for good.

load -> terminal: acknowledge (messages can arrive twice) -> market closed or
not executable at the current price: stay PENDING (resting) -> commit
PENDING to PROCESSING with the execution price fixed -> settle cash (BUY
deducts, SELL credits) -> commit EXECUTED, with ``OrderExecuted`` in the
outbox.

Settlement is a step outside the order's transactions, so it is made safe to
repeat and to undo: every balance call is keyed by the order; a retried
PROCESSING order settles the same amount again (a no-op); an execution that
loses the race to a cancel reverses its settlement.
"""

from __future__ import annotations

from enum import Enum, auto
from uuid import UUID

from order_core.dependencies import Dependencies
from order_core.errors import ConcurrencyConflict, OrderRejected
from order_core.order import Order
from order_core.ports import UnitOfWork
from order_core.records import Quote
from order_core.results import ProcessOutcome, ProcessResult
from order_core.rules.pricing import order_value
from order_core.usecases.common import load_order, stage_events, undo_money
from order_core.values import OrderSide, OrderStatus

__all__ = ["fail_order", "process_order"]


class _Step(Enum):
    EXECUTED = auto()
    RESTING = auto()
    LOST_RACE = auto()
    NO_QUOTE = auto()
    REJECTED = auto()


def process_order(
    deps: Dependencies,
    order_id: UUID,
    *,
    user_id: UUID | None = None,
    quote: Quote | None = None,
) -> ProcessResult:
    """Execute the order if the market allows it now.

    ``user_id``, when given (the processing message carries it), must own the
    order. ``quote`` lets a sweep pass the batch price it already has.
    Transient failures raise :class:`~order_core.errors.DependencyUnavailable`
    and leave the order where it was, so the caller can retry.
    """
    reason = ""
    # One unit of work, two transactions: PROCESSING is committed before the
    # cash moves, EXECUTED after; no transaction is open while settling.
    with deps.unit_of_work() as uow:
        order = load_order(uow, order_id, user_id)
        if order.is_terminal:
            if order.status is not OrderStatus.EXECUTED:
                # A crash between settling and recording the outcome leaves money
                # moved for an order that will never execute: undo it (a no-op
                # when nothing was settled).
                undo_money(deps, order)
            return ProcessResult(order.id, ProcessOutcome.ALREADY_FINAL, order.status)
        step = _Step.EXECUTED
        if order.status is OrderStatus.PENDING:
            step = _start_execution(deps, uow, order, quote)
        if step is _Step.EXECUTED:
            try:
                _settle(deps, order)
            except OrderRejected as rejection:
                step, reason = _Step.REJECTED, rejection.message
            else:
                order.execute(deps.clock.now())
                if not _write(deps, uow, order):
                    deps.balances.reverse(order.user_id, order.id)  # the winner released holds
                    step = _Step.LOST_RACE
    if step is _Step.EXECUTED:
        return ProcessResult(order.id, ProcessOutcome.EXECUTED, order.status)
    if step is _Step.RESTING:
        return ProcessResult(order.id, ProcessOutcome.RESTING, order.status)
    if step is _Step.LOST_RACE:
        return _superseded(deps, order.id)
    if step is _Step.NO_QUOTE:
        reason = f"no market price for {order.symbol}"
    return fail_order(deps, order.id, reason)


def _start_execution(
    deps: Dependencies, uow: UnitOfWork, order: Order, quote: Quote | None
) -> _Step:
    """Commit a PENDING order to PROCESSING, with its execution price fixed, if
    it executes now; a stop crossed for the first time is recorded either way."""
    if not deps.market_data.is_market_open(order.symbol):
        return _Step.RESTING
    if quote is None:
        quote = deps.market_data.get_quote(order.symbol)
        if quote is None:
            return _Step.NO_QUOTE
    now = deps.clock.now()
    evaluation = order.evaluate(quote.price)
    if evaluation.newly_triggered:
        order.trigger(now)
    if not evaluation.execute:
        if evaluation.newly_triggered and not _write(deps, uow, order):
            return _Step.LOST_RACE
        return _Step.RESTING
    order.start_processing(quote.price, now)
    return _Step.EXECUTED if _write(deps, uow, order) else _Step.LOST_RACE


def _settle(deps: Dependencies, order: Order) -> None:
    """Move the cash of a PROCESSING order at its fixed price. A SELL's
    quantity has been held for it since it was submitted."""
    price = order.execution_price
    assert price is not None  # fixed when the order entered PROCESSING
    amount = order_value(order.quantity.value, price)
    if order.side is OrderSide.BUY:
        deps.balances.deduct(order.user_id, amount, order.id)
    else:
        deps.balances.credit(order.user_id, amount, order.id)


def fail_order(deps: Dependencies, order_id: UUID, reason: str) -> ProcessResult:
    """Move a live order to FAILED with ``reason``, undoing any hold or settlement
    (used for permanent failures and when retries are exhausted). A terminal
    order is left as it is."""
    with deps.unit_of_work() as uow:
        order = load_order(uow, order_id, None)
        if order.is_terminal:
            return ProcessResult(order.id, ProcessOutcome.ALREADY_FINAL, order.status)
        order.fail(reason, deps.clock.now())
        undo_money(deps, order)
        failed = _write(deps, uow, order)
    if not failed:
        return _superseded(deps, order.id)
    return ProcessResult(order.id, ProcessOutcome.FAILED, order.status)


def _write(deps: Dependencies, uow: UnitOfWork, order: Order) -> bool:
    """Update and commit; False when another writer changed the order first."""
    try:
        uow.orders.update(order)
        stage_events(uow, order, deps.ids)
        uow.commit()
    except ConcurrencyConflict:
        uow.rollback()
        return False
    return True


def _superseded(deps: Dependencies, order_id: UUID) -> ProcessResult:
    with deps.unit_of_work() as uow:
        current = load_order(uow, order_id, None)
    return ProcessResult(order_id, ProcessOutcome.SUPERSEDED, current.status)
