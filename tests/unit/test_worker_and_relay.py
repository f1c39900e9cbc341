"""Delivering messages: processing through the broker, retries on the schedule,
dead-lettering, and the outbox relay's at-least-once guarantee."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from order_adapters.memory import InProcessBroker
from order_adapters.runners import InProcessProcessing
from order_adapters.topology import PROCESSING_QUEUE
from order_core import (
    DependencyUnavailable,
    Disposition,
    OrderService,
    OrderStatus,
    OrderSubmitted,
    OutboxMessage,
    ProcessOutcome,
    relay_outbox,
)
from order_core.events import OrderExecuted
from order_core.records import Quote
from order_core.values import Symbol
from tests.conftest import ALICE, World

D = Decimal


class SwitchableMarket:
    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.down = False

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self.inner, name)
        if self.down and name in {"get_quote", "is_market_open"}:

            def unavailable(*_: object) -> object:
                raise DependencyUnavailable("market data", "connection refused")

            return unavailable
        return attribute


def flaky_world(world: World) -> tuple[SwitchableMarket, InProcessProcessing]:
    market = SwitchableMarket(world.market)
    service = OrderService(dataclasses.replace(world.service.dependencies, market_data=market))  # type: ignore[arg-type]
    runtime = InProcessProcessing(service, world.database.outbox, InProcessBroker(world.clock))
    return market, runtime


def test_pump_processes_submitted_orders(world: World) -> None:
    order_id = world.submit()
    assert world.runtime.pump() == 2  # processing, then the position update
    assert world.order(order_id).status is OrderStatus.EXECUTED
    assert world.database.outbox.pending_count() == 0


def test_transient_failures_are_retried_on_the_schedule(world: World) -> None:
    market, runtime = flaky_world(world)
    order_id = world.submit()
    market.down = True
    runtime.pump()
    assert runtime.broker.pending() == 1  # waiting 5 ms for its first retry
    assert world.order(order_id).status is OrderStatus.PENDING
    world.clock.advance(timedelta(milliseconds=4))
    assert runtime.pump() == 0  # not due yet
    market.down = False
    world.clock.advance(timedelta(milliseconds=1))
    assert runtime.pump() == 1
    assert world.order(order_id).status is OrderStatus.EXECUTED


def test_exhausted_retries_fail_the_order_and_dead_letter_the_message(world: World) -> None:
    market, runtime = flaky_world(world)
    order_id = world.submit()
    market.down = True
    for _ in range(5):  # the first attempt and four retries
        runtime.pump()
        world.clock.advance(timedelta(milliseconds=5))
    (dead,) = runtime.broker.dead_letters
    assert dead.queue == PROCESSING_QUEUE
    assert "gave up after 4 retries" in dead.reason
    details = world.order(order_id)
    assert details.status is OrderStatus.FAILED
    assert "market data is unavailable" in (details.failure_reason or "")
    assert world.ledger.balances.get_balance(ALICE).reserved == 0


def test_a_message_for_an_unknown_order_is_dead_lettered_not_retried(world: World) -> None:
    submitted = OrderSubmitted(
        order_id=UUID(int=5),
        user_id=ALICE,
        symbol=Symbol("AAPL"),
        order_side="BUY",  # type: ignore[arg-type]
        order_type="MARKET",
        quantity=D(1),
        occurred_at=world.clock.now(),
        price=None,  # type: ignore[arg-type]
        stop_price=None,
        status=OrderStatus.PENDING,
        created_at=world.clock.now(),
        market_price_at_submission=None,
        market_data_timestamp=None,
    )
    handling = world.service.handle_message(OutboxMessage(UUID(int=6), submitted))
    assert handling.disposition is Disposition.DEAD_LETTER
    assert "ORDER_NOT_FOUND" in (handling.reason or "")


def test_a_crashing_handler_does_not_poison_the_broker(world: World) -> None:
    broker = InProcessBroker(world.clock)

    def broken(message: OutboxMessage, retries: int) -> None:
        raise RuntimeError("bug")

    broker.subscribe(PROCESSING_QUEUE, broken)
    world.submit()
    world.submit(quantity="2")
    relay_outbox(world.database.outbox, broker)
    assert broker.deliver() == 2  # both delivered; neither blocks the other
    assert [d.reason for d in broker.dead_letters] == ["RuntimeError: bug"] * 2


class FailingPublisher:
    def __init__(self) -> None:
        self.published: list[OutboxMessage] = []
        self.fail = True

    def publish(self, messages: list[OutboxMessage]) -> None:
        self.published.extend(messages)  # the broker got them...
        if self.fail:
            raise DependencyUnavailable("broker", "connection lost before the confirm")


def test_the_relay_resends_unconfirmed_messages_with_the_same_ids(world: World) -> None:
    world.submit()
    publisher = FailingPublisher()
    with pytest.raises(DependencyUnavailable):
        relay_outbox(world.database.outbox, publisher)
    assert world.database.outbox.pending_count() == 1  # not marked sent
    publisher.fail = False
    assert relay_outbox(world.database.outbox, publisher) == 1
    first, second = publisher.published
    assert first.message_id == second.message_id
    assert world.database.outbox.pending_count() == 0
    assert relay_outbox(world.database.outbox, publisher) == 0


def test_claimed_messages_are_invisible_to_a_second_relay(world: World) -> None:
    for n in range(1, 4):
        world.submit(quantity=str(n))
    outbox = world.database.outbox
    with outbox.claim(2) as first, outbox.claim(10) as second:
        ids_first = {m.message_id for m in first.messages}
        ids_second = {m.message_id for m in second.messages}
        assert len(ids_first) == 2 and len(ids_second) == 1
        assert not ids_first & ids_second
        first.mark_sent()
    assert outbox.pending_count() == 1  # the unconfirmed claim returned its message


def test_the_position_keeper_applies_each_execution_once(world: World) -> None:
    order_id = world.submit(quantity="3")
    world.service.process(order_id)
    with world.database.outbox.claim(10) as batch:
        (executed,) = [m for m in batch.messages if isinstance(m.event, OrderExecuted)]
    for _ in range(2):  # delivered twice
        assert world.service.keep_position(executed).disposition is Disposition.ACK
    assert world.ledger.positions.get_position(ALICE, Symbol("AAPL")).quantity == D("53")
    assert world.order(order_id).status is OrderStatus.EXECUTED


def test_recovery_resumes_an_order_left_processing(world: World) -> None:
    order_id = world.submit()
    with world.database.unit_of_work() as uow:
        order = uow.orders.get(order_id)
        assert order is not None
        now = world.clock.now()
        order.start_processing(Quote(order.symbol, D("150"), now), now)
        uow.orders.update(order)
        uow.commit()  # ...and then the worker died
    stale_after = timedelta(seconds=30)
    assert world.service.recover(stale_after=stale_after).executed == ()  # not stale yet
    world.clock.advance(stale_after)
    report = world.service.recover(stale_after=stale_after)
    assert report.executed == (order_id,)
    assert world.service.process(order_id).outcome is ProcessOutcome.ALREADY_FINAL


def _messages(world: World) -> list[OutboxMessage]:
    with world.database.outbox.claim(100) as batch:
        return list(batch.messages)


def test_a_redelivered_message_whose_effect_committed_changes_nothing(world: World) -> None:
    market, _ = flaky_world(world)
    service = OrderService(dataclasses.replace(world.service.dependencies, market_data=market))  # type: ignore[arg-type]
    order_id = world.submit()
    (submitted,) = _messages(world)
    assert service.handle_message(submitted).disposition is Disposition.ACK
    assert world.order(order_id).status is OrderStatus.EXECUTED
    # Redelivered (the ack was lost): the inbox answers before the market is asked.
    market.down = True
    handling = service.handle_message(submitted, redelivered=True)
    assert handling.disposition is Disposition.ACK
    with world.database.unit_of_work() as uow:
        assert uow.inbox.seen(submitted.message_id, "order-processor")


def test_the_position_keeper_records_the_message_that_applied_each_execution(
    world: World,
) -> None:
    order_id = world.submit(quantity="3")
    world.service.process(order_id)
    (executed,) = [m for m in _messages(world) if isinstance(m.event, OrderExecuted)]
    for redelivered in (False, True, True):
        assert world.service.keep_position(executed, redelivered=redelivered).disposition is (
            Disposition.ACK
        )
    assert world.ledger.positions.get_position(ALICE, Symbol("AAPL")).quantity == D("53")
    with world.database.unit_of_work() as uow:
        assert uow.inbox.seen(executed.message_id, "position-keeper")


def test_recovery_forgets_inbox_records_older_than_the_retry_path(world: World) -> None:
    order_id = world.submit()
    (submitted,) = _messages(world)
    world.service.handle_message(submitted)
    assert world.order(order_id).status is OrderStatus.EXECUTED
    retention = world.service.dependencies.policy.retry.inbox_retention
    world.clock.advance(retention - timedelta(seconds=1))
    world.service.recover()
    with world.database.unit_of_work() as uow:
        assert uow.inbox.seen(submitted.message_id, "order-processor")
    world.clock.advance(timedelta(seconds=2))
    world.service.recover()
    with world.database.unit_of_work() as uow:
        assert not uow.inbox.seen(submitted.message_id, "order-processor")
