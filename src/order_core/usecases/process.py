"""Process an order, retry it later, or fail it for good.

load -> terminal: acknowledge (messages can arrive twice) -> market closed or
not executable at the current price: stay PENDING (resting) -> commit
PENDING to PROCESSING with the execution price fixed -> one transaction,
holding the user's lock: settle the cash (BUY pays, SELL receives, a BUY's
hold goes) and commit EXECUTED with ``OrderExecuted`` in the outbox.

Settlement and EXECUTED commit together, decided by the order's versioned
write: an execution that loses the race to a cancel rolls back and moves no
money, and no settlement ever exists without its execution.
"""

from __future__ import annotations

from datetime import timedelta
from enum import Enum, auto
from typing import NamedTuple
from uuid import UUID

from order_core.dependencies import Dependencies
from order_core.errors import InsufficientBalance
from order_core.order import Order
from order_core.ports import UnitOfWork
from order_core.records import Quote
from order_core.results import ProcessOutcome, ProcessResult
from order_core.rules.pricing import order_value
from order_core.usecases.common import load_order, release_cash, write
from order_core.values import OrderSide, OrderStatus

__all__ = ["RetryDecision", "fail_order", "process_order", "schedule_retry"]


class _Step(Enum):
    EXECUTE = auto()
    RESTING = auto()
    LOST_RACE = auto()
    NO_QUOTE = auto()


def process_order(
    deps: Dependencies,
    order_id: UUID,
    *,
    user_id: UUID | None = None,
    quote: Quote | None = None,
    handled: tuple[UUID, str] | None = None,
) -> ProcessResult:
    """Execute the order if the market allows it now.

    ``user_id``, when given (the processing message carries it), must own the
    order. ``quote`` lets a sweep pass the batch price it already has.
    ``handled`` (message id, consumer) is recorded in the inbox with the
    execution or the failure.
    Transient failures raise :class:`~order_core.errors.DependencyUnavailable`
    and leave the order where it was; :func:`schedule_retry` records when to
    try again.
    """
    with deps.unit_of_work() as uow:
        order = load_order(uow, order_id, user_id)
        if order.is_terminal:
            return ProcessResult(order.id, ProcessOutcome.ALREADY_FINAL, order.status)
        step = _Step.EXECUTE
        if order.status is OrderStatus.PENDING:
            step = _start_execution(deps, uow, order, quote)
        if step is _Step.EXECUTE:
            try:
                executed = _settle_and_execute(deps, uow, order, handled)
            except InsufficientBalance as refused:
                uow.rollback()
                return fail_order(deps, order.id, refused.message, handled=handled)
            step = _Step.EXECUTE if executed else _Step.LOST_RACE
    if step is _Step.EXECUTE:
        return ProcessResult(order.id, ProcessOutcome.EXECUTED, order.status)
    if step is _Step.RESTING:
        return ProcessResult(order.id, ProcessOutcome.RESTING, order.status)
    if step is _Step.LOST_RACE:
        return _superseded(deps, order.id)
    return fail_order(deps, order.id, f"no market price for {order.symbol}", handled=handled)


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
        if evaluation.newly_triggered and not write(deps, uow, order):
            return _Step.LOST_RACE
        return _Step.RESTING
    order.start_processing(quote, now)
    return _Step.EXECUTE if write(deps, uow, order) else _Step.LOST_RACE


def _settle_and_execute(
    deps: Dependencies, uow: UnitOfWork, order: Order, handled: tuple[UUID, str] | None
) -> bool:
    """One transaction: the cash of a PROCESSING order at its fixed price, and
    EXECUTED. False when another writer (a cancel) got there first."""
    price = order.execution_price
    assert price is not None  # fixed when the order entered PROCESSING
    uow.orders.lock_user(order.user_id)
    value = order_value(order.quantity.value, price)
    paid = value.copy_negate() if order.side is OrderSide.BUY else value
    uow.ledger.settle(order.user_id, order.id, paid=paid, held=order.cash_held)
    now = deps.clock.now()
    order.execute(now)
    if handled is not None:
        uow.inbox.record(*handled, now)
    return write(deps, uow, order)


def fail_order(
    deps: Dependencies, order_id: UUID, reason: str, *, handled: tuple[UUID, str] | None = None
) -> ProcessResult:
    """Move a live order to FAILED with ``reason``, letting go of its hold in the
    same transaction (permanent failures, retries used up). A terminal order
    is left as it is. ``handled`` goes in the inbox with the failure."""
    with deps.unit_of_work() as uow:
        order = load_order(uow, order_id, None)
        if order.is_terminal:
            return ProcessResult(order.id, ProcessOutcome.ALREADY_FINAL, order.status)
        uow.orders.lock_user(order.user_id)
        now = deps.clock.now()
        order.fail(reason, now)
        release_cash(uow, order)
        if handled is not None:
            uow.inbox.record(*handled, now)
        failed = write(deps, uow, order)
    if not failed:
        return _superseded(deps, order.id)
    return ProcessResult(order.id, ProcessOutcome.FAILED, order.status)


class RetryDecision(NamedTuple):
    """What :func:`schedule_retry` decided: wait ``delay``, or the order failed
    for good with ``failure`` (both None: it moved on meanwhile)."""

    delay: timedelta | None
    failure: str | None = None


def schedule_retry(deps: Dependencies, order_id: UUID, reason: str) -> RetryDecision:
    """A transient failure while processing: record on the order when to try
    again (any runner picks it up then); once the retries are used up, fail
    the order with ``reason``."""
    with deps.unit_of_work() as uow:
        order = load_order(uow, order_id, None)
        if order.is_terminal:
            return RetryDecision(None)
        delay = deps.policy.retry.delay_before_retry(order.attempts)
        if delay is not None:
            now = deps.clock.now()
            order.schedule_retry(now + delay, now)
            return RetryDecision(delay if write(deps, uow, order) else None)
    failure = f"gave up after {order.attempts} retries: {reason}"
    result = fail_order(deps, order_id, failure)
    return RetryDecision(None, failure if result.outcome is ProcessOutcome.FAILED else None)


def _superseded(deps: Dependencies, order_id: UUID) -> ProcessResult:
    with deps.unit_of_work() as uow:
        current = load_order(uow, order_id, None)
    return ProcessResult(order_id, ProcessOutcome.SUPERSEDED, current.status)
