"""The Order aggregate: state machine, events, and when each type executes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from order_core import (
    IllegalTransition,
    InvalidInput,
    Order,
    OrderCancelled,
    OrderExecuted,
    OrderFailed,
    OrderNotCancellable,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    Price,
    Quantity,
    Symbol,
)
from order_core.records import Quote
from order_core.rules.pricing import evaluate, is_marketable, stop_triggered
from order_core.values import ALLOWED_TRANSITIONS
from tests.contract.factories import restored_in

NOW = datetime(2025, 11, 4, 10, 0, tzinfo=UTC)
ORDER_ID = UUID(int=1)
USER = UUID(int=2)


def place(
    order_type: OrderType = OrderType.MARKET,
    side: OrderSide = OrderSide.BUY,
    price: str | None = None,
    stop: str | None = None,
) -> Order:
    return Order.place(
        id=ORDER_ID,
        user_id=USER,
        symbol=Symbol("AAPL"),
        side=side,
        order_type=order_type,
        quantity=Quantity.parse("10"),
        price=None if price is None else Price.parse(price),
        stop_price=None if stop is None else Price.parse(stop, field="stop_price"),
        market_price=Decimal("150.25"),
        market_data_timestamp=NOW,
        now=NOW,
    )


def in_status(status: OrderStatus) -> Order:
    order = place()
    order.pull_events()
    executing = status in (OrderStatus.PROCESSING, OrderStatus.EXECUTED)
    return restored_in(order, status, execution_price=Decimal("150.25") if executing else None)


def test_place_records_submitted_event_with_market_context() -> None:
    order = place(OrderType.LIMIT, price="150")
    assert order.status is OrderStatus.PENDING
    assert order.version == 1
    (event,) = order.pull_events()
    assert isinstance(event, OrderSubmitted)
    assert event.order_id == ORDER_ID
    assert event.price == Decimal("150")
    assert event.market_price_at_submission == Decimal("150.25")
    assert order.pull_events() == ()  # handed over once


@pytest.mark.parametrize(
    ("order_type", "price", "stop", "field", "code"),
    [
        (OrderType.MARKET, "1", None, "price", "PRICE_NOT_ALLOWED"),
        (OrderType.LIMIT, None, None, "price", "PRICE_REQUIRED"),
        (OrderType.LIMIT, "1", "1", "stop_price", "STOP_PRICE_NOT_ALLOWED"),
        (OrderType.STOP_LOSS, None, None, "stop_price", "STOP_PRICE_REQUIRED"),
        (OrderType.STOP_LOSS, "1", "1", "price", "PRICE_NOT_ALLOWED"),
        (OrderType.STOP_LIMIT, "1", None, "stop_price", "STOP_PRICE_REQUIRED"),
        (OrderType.STOP_LIMIT, None, "1", "price", "PRICE_REQUIRED"),
    ],
)
def test_prices_must_match_the_order_type(
    order_type: OrderType, price: str | None, stop: str | None, field: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        place(order_type, price=price, stop=stop)
    assert (caught.value.field, caught.value.code) == (field, code)


def test_the_transition_table_is_the_designs() -> None:
    pending, processing = OrderStatus.PENDING, OrderStatus.PROCESSING
    allowed = {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert allowed == {
        (pending, processing),
        (pending, OrderStatus.CANCELLED),
        (pending, OrderStatus.FAILED),
        (processing, OrderStatus.EXECUTED),
        (processing, OrderStatus.FAILED),
        (processing, OrderStatus.CANCELLED),
    }


ACTIONS = {
    OrderStatus.PROCESSING: lambda o, at: o.start_processing(
        Quote(o.symbol, Decimal("150"), at), at
    ),
    OrderStatus.EXECUTED: lambda o, at: o.execute(at),
    OrderStatus.FAILED: lambda o, at: o.fail("broken", at),
    OrderStatus.CANCELLED: lambda o, at: o.cancel(at),
}


@pytest.mark.parametrize(
    ("current", "target"),
    [(a, b) for a, b in itertools.product(OrderStatus, ACTIONS) if b in ALLOWED_TRANSITIONS[a]],
)
def test_every_legal_transition_moves_and_stamps_time(
    current: OrderStatus, target: OrderStatus
) -> None:
    order = in_status(current)
    later = NOW + timedelta(seconds=5)
    ACTIONS[target](order, later)
    assert order.status is target
    assert order.updated_at == later


@pytest.mark.parametrize(
    ("current", "target"),
    [(a, b) for a, b in itertools.product(OrderStatus, ACTIONS) if b not in ALLOWED_TRANSITIONS[a]],
)
def test_every_illegal_transition_raises_and_changes_nothing(
    current: OrderStatus, target: OrderStatus
) -> None:
    order = in_status(current)
    before = order.copy()
    expected = (
        OrderNotCancellable
        if target is OrderStatus.CANCELLED and current.is_terminal
        else IllegalTransition
    )
    with pytest.raises(expected) as caught:
        ACTIONS[target](order, NOW)
    assert order == before
    assert order.pull_events() == ()
    assert caught.value.value == current  # the error names the status it was in


def test_execute_records_the_position_update_fields() -> None:
    order = place()
    order.pull_events()
    order.start_processing(Quote(order.symbol, Decimal("151.5"), NOW), NOW)
    order.execute(NOW + timedelta(seconds=1))
    (event,) = order.pull_events()
    assert isinstance(event, OrderExecuted)
    assert event.execution_price == Decimal("151.5")
    assert event.total_value == Decimal("1515.00000000")
    assert event.executed_at == NOW + timedelta(seconds=1)
    assert order.execution_value == Decimal("1515.00000000")


def test_fail_and_cancel_record_reason_and_previous_status() -> None:
    failing = place()
    failing.pull_events()
    failing.fail("no market price", NOW)
    (failed,) = failing.pull_events()
    assert isinstance(failed, OrderFailed)
    assert (failed.reason, failed.previous_status) == ("no market price", OrderStatus.PENDING)
    assert failing.failure_reason == "no market price"

    cancelling = in_status(OrderStatus.PROCESSING)
    cancelling.cancel(NOW)
    (cancelled,) = cancelling.pull_events()
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.previous_status is OrderStatus.PROCESSING
    assert cancelling.execution_price is None


def test_cancelling_a_terminal_order_names_its_status() -> None:
    order = in_status(OrderStatus.EXECUTED)
    with pytest.raises(OrderNotCancellable) as caught:
        order.cancel(NOW)
    assert caught.value.code == "ORDER_NOT_CANCELLABLE"
    assert "EXECUTED" in caught.value.message


def test_copy_is_independent() -> None:
    order = place()
    clone = order.copy()
    clone.fail("x", NOW)
    assert order.status is OrderStatus.PENDING
    assert clone.pull_events()  # the clone's own event
    assert order == place()  # the original is untouched


# -- when each type executes ----------------------------

BUY, SELL = OrderSide.BUY, OrderSide.SELL
D = Decimal


@pytest.mark.parametrize(
    ("side", "limit", "market", "expected"),
    [
        (BUY, "100", "99.99", True),
        (BUY, "100", "100", True),
        (BUY, "100", "100.01", False),
        (SELL, "100", "100.01", True),
        (SELL, "100", "100", True),
        (SELL, "100", "99.99", False),
    ],
)
def test_limit_is_marketable(side: OrderSide, limit: str, market: str, expected: bool) -> None:
    assert is_marketable(side, D(limit), D(market)) is expected
    evaluation = evaluate(
        OrderType.LIMIT, side, limit=D(limit), stop=None, already_triggered=False, market=D(market)
    )
    assert evaluation.execute is expected
    assert not evaluation.newly_triggered


@pytest.mark.parametrize(
    ("side", "stop", "market", "expected"),
    [
        (SELL, "90", "90", True),
        (SELL, "90", "89", True),
        (SELL, "90", "90.01", False),
        (BUY, "110", "110", True),
        (BUY, "110", "111", True),
        (BUY, "110", "109.99", False),
    ],
)
def test_stop_loss_triggers_and_executes_as_market(
    side: OrderSide, stop: str, market: str, expected: bool
) -> None:
    assert stop_triggered(side, D(stop), D(market)) is expected
    evaluation = evaluate(
        OrderType.STOP_LOSS,
        side,
        limit=None,
        stop=D(stop),
        already_triggered=False,
        market=D(market),
    )
    assert evaluation.execute is expected
    assert evaluation.newly_triggered is expected


def test_market_always_executes() -> None:
    evaluation = evaluate(
        OrderType.MARKET, SELL, limit=None, stop=None, already_triggered=False, market=D("1")
    )
    assert evaluation.execute


def test_stop_limit_triggers_then_waits_for_its_limit() -> None:
    # SELL stop 90, limit 88: the fall to 87 crosses the stop but is below the limit.
    crossed = evaluate(
        OrderType.STOP_LIMIT,
        SELL,
        limit=D("88"),
        stop=D("90"),
        already_triggered=False,
        market=D("87"),
    )
    assert (crossed.execute, crossed.newly_triggered) == (False, True)
    # Back up to 89: above the stop again, but the trigger is remembered.
    recovered = evaluate(
        OrderType.STOP_LIMIT,
        SELL,
        limit=D("88"),
        stop=D("90"),
        already_triggered=True,
        market=D("89"),
    )
    assert (recovered.execute, recovered.newly_triggered) == (True, False)
    # Never triggered: 89 alone would be executable for the limit, but the stop was not crossed.
    untouched = evaluate(
        OrderType.STOP_LIMIT,
        SELL,
        limit=D("88"),
        stop=D("80"),
        already_triggered=False,
        market=D("89"),
    )
    assert (untouched.execute, untouched.newly_triggered) == (False, False)


def test_order_remembers_its_trigger() -> None:
    order = place(OrderType.STOP_LIMIT, side=SELL, price="148", stop="149")
    assert not order.evaluate(D("147")).execute
    order.trigger(NOW)
    assert order.triggered_at == NOW
    assert order.evaluate(D("148.5")).execute
    with pytest.raises(IllegalTransition):
        place().trigger(NOW)  # a MARKET order has no stop


def test_estimates_use_limit_stop_or_market() -> None:
    assert place().estimated_price == D("150.25")
    assert place(OrderType.LIMIT, price="149").estimated_price == D("149")
    assert place(OrderType.STOP_LOSS, side=SELL, stop="140").estimated_price == D("140")
    assert place(OrderType.STOP_LIMIT, price="141", stop="140").estimated_value == D("1410")


def test_restore_rebuilds_a_stored_order_as_it_was_without_events() -> None:
    order = in_status(OrderStatus.PROCESSING)
    restored = Order.restore(
        order.id,
        order.user_id,
        order.symbol,
        order.side,
        order.order_type,
        order.quantity,
        order.price,
        order.stop_price,
        order.status,
        order.created_at,
        order.updated_at,
        order.executed_at,
        order.execution_price,
        order.market_price_at_submission,
        order.market_data_timestamp,
        order.failure_reason,
        order.triggered_at,
        order.version,
    )
    assert restored == order
    assert restored.pull_events() == ()


def test_status_changes_only_through_the_transition_methods() -> None:
    order = place()
    with pytest.raises(AttributeError):
        order.status = OrderStatus.EXECUTED  # type: ignore[misc]
    assert order.status is OrderStatus.PENDING
    with pytest.raises(TypeError):
        Order()
