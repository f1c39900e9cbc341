"""Processing: execution per order type, resting orders, settlement, failures,
and the race between an execution and a cancel."""

from __future__ import annotations

import dataclasses
import threading
from decimal import Decimal
from uuid import UUID

import pytest

from order_core import (
    Dependencies,
    DependencyUnavailable,
    Disposition,
    Handling,
    OrderAccessDenied,
    OrderCancelled,
    OrderError,
    OrderExecuted,
    OrderNotFound,
    OrderService,
    OrderStatus,
    OrderSubmitted,
    ProcessOutcome,
)
from order_core.usecases import worker
from order_core.values import Symbol
from tests.conftest import ALICE, BOB, World
from tests.faults import Crash, FaultyUnitsOfWork

D = Decimal


def test_market_order_executes_at_the_current_price(world: World) -> None:
    order_id = world.submit(quantity="2")
    world.market.set_price("AAPL", "151.50")
    result = world.service.process(order_id)
    assert (result.outcome, result.status) == (ProcessOutcome.EXECUTED, OrderStatus.EXECUTED)
    details = world.order(order_id)
    assert details.execution_price == D("151.5")
    assert details.execution_value == D("303")
    assert details.executed_at == world.clock.now()
    balance = world.ledger.balances.get_balance(ALICE)
    assert (balance.cash, balance.reserved) == (D("100000") - D("303"), 0)


def test_execution_publishes_the_position_update(world: World) -> None:
    order_id = world.submit(quantity="2")
    world.service.process(order_id)
    with world.database.outbox.claim(100) as batch:
        executed = [m.event for m in batch.messages if isinstance(m.event, OrderExecuted)]
    assert [(e.order_id, e.total_value) for e in executed] == [(order_id, D("300"))]


def test_a_sell_credits_cash_and_the_keeper_moves_the_position(world: World) -> None:
    order_id = world.submit(order_side="SELL", quantity="5")
    world.runtime.pump()
    assert world.order(order_id).status is OrderStatus.EXECUTED
    assert world.ledger.balances.get_balance(ALICE).cash == D("100750")
    assert world.ledger.positions.get_position(ALICE, Symbol("AAPL")).quantity == D("45")


def test_a_limit_order_rests_until_marketable_then_a_sweep_executes_it(world: World) -> None:
    order_id = world.submit(order_type="LIMIT", price="145", quantity="1")
    assert world.service.process(order_id).outcome is ProcessOutcome.RESTING
    status = world.service.get_status(order_id, ALICE)
    assert status.status is OrderStatus.PENDING
    assert "limit price 145" in status.status_message
    world.market.set_price("AAPL", "146")
    assert world.service.sweep().executed == ()
    world.market.set_price("AAPL", "144.90")
    report = world.service.sweep()
    assert report.executed == (order_id,)
    assert world.order(order_id).execution_price == D("144.9")  # the market, better than the limit


def test_a_stop_loss_sells_once_the_market_falls_to_the_stop(world: World) -> None:
    order_id = world.submit(order_type="STOP_LOSS", order_side="SELL", stop_price="140")
    world.runtime.pump()
    assert world.order(order_id).status is OrderStatus.PENDING
    world.market.set_price("AAPL", "139")
    assert world.service.sweep().executed == (order_id,)
    assert world.order(order_id).execution_price == D("139")


def test_a_stop_limit_remembers_its_trigger(world: World) -> None:
    order_id = world.submit(
        order_type="STOP_LIMIT", order_side="BUY", stop_price="155", price="157"
    )
    world.market.set_price("AAPL", "158")  # crosses the stop, above the limit
    report = world.service.sweep()
    assert report.executed == ()
    details = world.order(order_id)
    assert details.triggered_at is not None and details.status is OrderStatus.PENDING
    world.market.set_price("AAPL", "154")  # back under the stop: still a live limit
    assert world.service.sweep().executed == (order_id,)


def test_a_closed_market_leaves_the_order_resting(world: World) -> None:
    order_id = world.submit()
    world.market.set_market_open(False, "AAPL")
    assert world.service.process(order_id).outcome is ProcessOutcome.RESTING
    world.market.set_market_open(True)
    assert world.service.process(order_id).outcome is ProcessOutcome.EXECUTED


def test_processing_twice_is_harmless(world: World) -> None:
    order_id = world.submit()
    world.service.process(order_id)
    cash = world.ledger.balances.get_balance(ALICE).cash
    again = world.service.process(order_id)
    assert again.outcome is ProcessOutcome.ALREADY_FINAL
    assert world.ledger.balances.get_balance(ALICE).cash == cash


def test_insufficient_cash_at_execution_fails_the_order_and_frees_the_hold(world: World) -> None:
    order_id = world.submit(quantity="600")  # holds 90,000 of the 100,000 at 150
    world.market.set_price("AAPL", "165")  # the fill now costs 99,000
    world.submit(quantity="60", idempotency_key="other")  # holds 9,900 of what is left
    result = world.service.process(order_id)
    assert result.outcome is ProcessOutcome.FAILED
    details = world.order(order_id)
    assert details.status is OrderStatus.FAILED
    assert "insufficient balance" in (details.failure_reason or "")
    assert world.ledger.balances.get_balance(ALICE).reserved == D("9900")


def test_process_checks_the_owner_named_in_the_message(world: World) -> None:
    order_id = world.submit()
    with pytest.raises(OrderAccessDenied):
        world.service.process(order_id, user_id=BOB)
    with pytest.raises(OrderNotFound):
        world.service.process(UUID(int=12345))


def test_a_vanished_quote_fails_the_order_and_frees_its_holds(world: World) -> None:
    buy = world.submit()
    sell = world.submit(order_side="SELL", quantity="5")
    world.market._quotes.clear()
    for order_id in (buy, sell):
        assert world.service.process(order_id).outcome is ProcessOutcome.FAILED
        assert world.order(order_id).failure_reason == "no market price for AAPL"
    assert world.ledger.balances.get_balance(ALICE).reserved == 0
    assert world.service.get_pending_quantities(ALICE, "AAPL").selling == 0


def with_faults(world: World) -> tuple[OrderService, FaultyUnitsOfWork]:
    faults = FaultyUnitsOfWork(world.service.dependencies.unit_of_work)
    service = OrderService(dataclasses.replace(world.service.dependencies, unit_of_work=faults))
    return service, faults


def test_a_cancel_that_wins_the_race_leaves_no_settlement(world: World) -> None:
    order_id = world.submit(quantity="2")
    racing, faults = with_faults(world)
    # The owner cancels while the execution is settling, before it commits.
    faults.arm("ledger.settle", when="after", action=lambda: world.service.cancel(order_id, ALICE))
    result = racing.process(order_id)
    assert (result.outcome, result.status) == (ProcessOutcome.SUPERSEDED, OrderStatus.CANCELLED)
    balance = world.ledger.balances.get_balance(ALICE)
    assert (balance.cash, balance.reserved) == (D("100000"), 0)
    with world.database.outbox.claim(100) as batch:
        assert not any(isinstance(m.event, OrderExecuted) for m in batch.messages)


def test_an_execution_whose_commit_answer_was_lost_settles_exactly_once(world: World) -> None:
    order_id = world.submit(quantity="2")
    flaky, faults = with_faults(world)
    lost = DependencyUnavailable("database", "connection lost after the commit")

    def lose_the_answer() -> None:
        raise lost

    faults.arm("ledger.settle", when="before")  # first attempt dies before settling
    with pytest.raises(Crash):
        flaky.process(order_id)
    assert world.order(order_id).status is OrderStatus.PROCESSING
    assert world.ledger.balances.get_balance(ALICE).cash == D("100000")
    world.market.set_price("AAPL", "170")  # the retry must not re-price the order
    faults.arm("commit", when="after", action=lose_the_answer)
    with pytest.raises(DependencyUnavailable):
        flaky.process(order_id)  # settled and executed; only the answer was lost
    assert flaky.process(order_id).outcome is ProcessOutcome.ALREADY_FINAL
    assert world.order(order_id).execution_price == D("150")
    balance = world.ledger.balances.get_balance(ALICE)
    assert (balance.cash, balance.reserved) == (D("99700"), 0)


def test_cancel_and_execute_racing_in_threads_end_consistently(world: World) -> None:
    for round_ in range(200):
        order_id = world.submit(quantity="1", idempotency_key=f"race-{round_}")
        start = threading.Barrier(2)
        outcomes: list[object] = []

        def execute(
            order_id: UUID = order_id,
            start: threading.Barrier = start,
            seen: list[object] = outcomes,
        ) -> None:
            start.wait()
            seen.append(world.service.process(order_id).outcome)

        def cancel(
            order_id: UUID = order_id,
            start: threading.Barrier = start,
            seen: list[object] = outcomes,
        ) -> None:
            start.wait()
            try:
                world.service.cancel(order_id, ALICE)
                seen.append("cancelled")
            except OrderError as error:  # the loser's typed error is recorded
                seen.append(error.code)

        threads = [threading.Thread(target=execute), threading.Thread(target=cancel)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        status = world.order(order_id).status
        assert status in (OrderStatus.EXECUTED, OrderStatus.CANCELLED), outcomes
    executed = world.service.get_history(ALICE, status="EXECUTED", limit=100).total_count
    balance = world.ledger.balances.get_balance(ALICE)
    assert balance.reserved == 0
    assert balance.cash == D("100000") - executed * D("150")


def test_the_worker_dispatches_by_event_type(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    order_id = world.submit()
    assert worker.HANDLERS[OrderSubmitted] is worker.execute_submitted
    world.service.cancel(order_id, ALICE)
    with world.database.outbox.claim(100) as batch:
        cancelled = next(m for m in batch.messages if isinstance(m.event, OrderCancelled))
    # No step for the event: acknowledged untouched.
    assert world.service.handle_message(cancelled).disposition is Disposition.ACK

    # A new step registers in the table; the dispatcher itself is unchanged.
    seen: list[tuple[object, int]] = []

    def on_cancelled(
        deps: Dependencies, event: OrderCancelled, delivery: worker.Delivery
    ) -> Handling:
        seen.append((event.order_id, delivery.retries_done))
        return Handling(Disposition.RETRY, reason="later")

    monkeypatch.setitem(worker.HANDLERS, OrderCancelled, on_cancelled)
    handling = world.service.handle_message(cancelled, 2)
    assert (handling.disposition, handling.reason) == (Disposition.RETRY, "later")
    assert seen == [(order_id, 2)]
