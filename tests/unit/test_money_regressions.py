"""Regressions of the money issue, each a behaviour a user relies on that the
previous release did not have: durable retries, replays that touch nothing,
a claim taken over from a slow owner, the max-position rule counting executed
BUYs not yet applied, and the execution event's quote time."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from order_adapters.memory import InMemoryIdempotencyStore
from order_core import (
    DependencyUnavailable,
    Disposition,
    IdempotencyPolicy,
    OrderExecuted,
    OrderPolicy,
    OrderService,
    OrderStatus,
    RetryPolicy,
    RiskPolicy,
    RiskRejected,
    SubmitOrder,
)
from order_core.events import OrderSubmitted
from tests.conftest import ALICE, World, build_world

D = Decimal


def buy(quantity: str = "1", key: str | None = "k-1", **fields: object) -> SubmitOrder:
    values: dict[str, object] = {
        "user_id": ALICE,
        "symbol": "AAPL",
        "order_type": "MARKET",
        "order_side": "BUY",
        "quantity": quantity,
        "idempotency_key": key,
    }
    values.update(fields)
    return SubmitOrder(**values)  # type: ignore[arg-type]


class MarketSwitch:
    """Market data that can be taken down, or made to wait, from the test."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.down = False
        self.gate: threading.Event | None = None
        self.calls = 0

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self.inner, name)

        def call(*args: object) -> object:
            self.calls += 1
            if self.down:
                raise DependencyUnavailable("market data", "connection refused")
            if self.gate is not None:
                self.gate.wait(timeout=10)
            return attribute(*args)  # type: ignore[operator]

        return call


def with_market(world: World, market: MarketSwitch) -> OrderService:
    return OrderService(dataclasses.replace(world.service.dependencies, market_data=market))  # type: ignore[arg-type]


def test_a_transient_failure_is_retried_by_any_runner_once_due() -> None:
    world = build_world(OrderPolicy(retry=RetryPolicy(delays=(timedelta(seconds=10),))))
    market = MarketSwitch(world.market)
    service = with_market(world, market)
    order_id = service.submit(buy()).order_id
    market.down = True
    submitted = next(m for m in _outbox(world) if isinstance(m.event, OrderSubmitted))
    handling = service.handle_message(submitted)
    assert handling.disposition is Disposition.RETRY
    details = world.order(order_id)
    assert details.status is OrderStatus.PENDING
    # The retry is on the order, not in this process: another runner takes it up.
    market.down = False
    assert service.recover(stale_after=timedelta(hours=1)).examined == 0  # not due yet
    world.clock.advance(timedelta(seconds=10))
    assert service.recover(stale_after=timedelta(hours=1)).executed == (order_id,)


def test_a_replay_answers_without_market_data_or_money(world: World) -> None:
    market = MarketSwitch(world.market)
    service = with_market(world, market)
    first = service.submit(buy(order_type="LIMIT", price="140"))
    held = world.ledger.balances.get_balance(ALICE).reserved
    market.down = True  # a replay must not need it
    calls = market.calls
    again = service.submit(buy(order_type="LIMIT", price="140"))
    assert (again.order_id, again.replayed) == (first.order_id, True)
    assert market.calls == calls
    assert world.ledger.balances.get_balance(ALICE).reserved == held


def test_a_derived_key_replay_tells_the_current_status(world: World) -> None:
    first = world.service.submit(buy(key=None, order_type="LIMIT", price="140"))
    world.service.cancel(first.order_id, ALICE)
    again = world.service.submit(buy(key=None, order_type="LIMIT", price="140"))
    assert again.order_id == first.order_id
    assert again.status is OrderStatus.CANCELLED


def test_a_claim_taken_over_from_a_slow_owner_still_makes_one_order() -> None:
    policy = OrderPolicy(idempotency=IdempotencyPolicy(lock_timeout=timedelta(seconds=1)))
    world = build_world(policy)
    gate = InMemoryIdempotencyStore()
    market = MarketSwitch(world.market)
    slow = OrderService(
        dataclasses.replace(world.service.dependencies, market_data=market, idempotency_gate=gate)
    )
    fast = OrderService(dataclasses.replace(world.service.dependencies, idempotency_gate=gate))
    market.gate = threading.Event()
    answers = []
    first = threading.Thread(target=lambda: answers.append(slow.submit(buy())))
    first.start()
    while market.calls == 0:  # the slow owner holds the claim and waits on market data
        threading.Event().wait(0.001)
    world.clock.advance(timedelta(seconds=2))  # past the lock timeout: the claim is taken over
    answers.append(fast.submit(buy()))
    market.gate.set()
    first.join(timeout=10)
    assert len(answers) == 2
    assert answers[0].order_id == answers[1].order_id
    assert world.service.get_history(ALICE).total_count == 1
    assert fast.submit(buy()).order_id == answers[0].order_id  # and every retry agrees


def test_max_position_counts_executed_buys_not_yet_applied() -> None:
    world = build_world(OrderPolicy(risk=RiskPolicy(max_position_quantity=D("60"))))
    order_id = world.service.submit(buy("10", key="a")).order_id  # ALICE holds 50 AAPL
    world.service.process(order_id)  # executed; the holding is still 50
    assert world.ledger.positions.get_position(ALICE, "AAPL").quantity == D("50")  # type: ignore[arg-type]
    with pytest.raises(RiskRejected) as refused:
        world.service.submit(buy("1", key="b"))
    assert refused.value.code == "MAX_POSITION_EXCEEDED"


def test_the_execution_event_carries_the_quotes_time(world: World) -> None:
    order_id = world.submit()
    quoted_at = world.clock.now()
    world.market.set_price("AAPL", "150")  # a quote stamped now
    world.clock.advance(timedelta(seconds=7))
    world.service.process(order_id)
    (executed,) = [m.event for m in _outbox(world) if isinstance(m.event, OrderExecuted)]
    assert executed.market_data_timestamp == quoted_at
    assert executed.executed_at == quoted_at + timedelta(seconds=7)


def _outbox(world: World) -> list:  # type: ignore[type-arg]
    with world.database.outbox.claim(1000) as batch:
        return list(batch.messages)
