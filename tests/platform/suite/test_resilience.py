"""Deadlines, retries, the breaker and the cache, against `orders simulate`
made slow or failing through its control service. Each test bounds its time."""

from __future__ import annotations

import time
from decimal import Decimal
from uuid import uuid4

import grpc
import pytest

from order_adapters.deadlines import caller_deadline
from order_adapters.simulated import DEMO_USER
from order_core.errors import DependencyUnavailable
from order_core.values import Symbol
from tests.platform.suite.conftest import (
    Simulator,
    balance_client,
    market_client,
    position_client,
)

AAPL = Symbol("AAPL")
MARKET = "hub_investments.MarketDataService"
BALANCE = "hub_investments.BalanceService"


def test_a_call_slower_than_the_deadline_fails_in_time_after_its_attempts(
    healthy: Simulator, channel: grpc.Channel
) -> None:
    market = market_client(channel, deadline=0.2)
    healthy.faults(service=MARKET, delay=1.0)

    started = time.monotonic()
    with pytest.raises(DependencyUnavailable, match="DEADLINE_EXCEEDED"):
        market.get_quote(AAPL)

    assert time.monotonic() - started < 1.5  # 3 x 0.2 s and two short waits
    assert market.guard.attempts["GetMarketData"] == 3


def test_the_callers_deadline_bounds_every_attempt(
    healthy: Simulator, channel: grpc.Channel
) -> None:
    market = market_client(channel, deadline=5.0)
    healthy.faults(service=MARKET, delay=1.0)

    started = time.monotonic()
    with caller_deadline(0.3), pytest.raises(DependencyUnavailable):
        market.get_quote(AAPL)

    assert time.monotonic() - started < 0.8
    with caller_deadline(0.0), pytest.raises(DependencyUnavailable, match="deadline has passed"):
        market.get_quote(AAPL)


def test_unavailable_is_retried_until_it_answers(healthy: Simulator, channel: grpc.Channel) -> None:
    market = market_client(channel)
    healthy.faults(service=MARKET, fail=grpc.StatusCode.UNAVAILABLE, count=2)

    quote = market.get_quote(AAPL)

    assert quote is not None and quote.price == Decimal("189.50")
    assert market.guard.attempts["GetMarketData"] == 3


def test_a_definite_answer_is_not_retried(healthy: Simulator, channel: grpc.Channel) -> None:
    market = market_client(channel)

    assert market.get_quote(Symbol("NOPE")) is None
    assert market.guard.attempts["GetMarketData"] == 1

    healthy.faults(service=MARKET, fail=grpc.StatusCode.INTERNAL, count=1)
    with pytest.raises(DependencyUnavailable, match="INTERNAL"):
        market.get_quote(AAPL)
    assert market.guard.attempts["GetMarketData"] == 2  # INTERNAL: no second attempt


def test_the_breaker_opens_after_five_failures_answers_at_once_and_recovers(
    healthy: Simulator, channel: grpc.Channel
) -> None:
    market = market_client(channel, attempts=1, breaker_reset=0.5)
    healthy.faults(service=MARKET, fail=grpc.StatusCode.UNAVAILABLE)
    for _ in range(5):
        with pytest.raises(DependencyUnavailable):
            market.get_quote(AAPL)
    assert market.guard.state == "open"
    served = healthy.calls("GetMarketData")

    started = time.monotonic()
    with pytest.raises(DependencyUnavailable, match="circuit breaker is open"):
        market.get_quote(AAPL)
    assert time.monotonic() - started < 0.05
    assert healthy.calls("GetMarketData") == served  # never reached the peer

    healthy.faults()  # the peer is back; after the reset one trial call goes through
    time.sleep(0.6)
    assert market.get_quote(AAPL) is not None
    assert market.guard.state == "closed"


def test_a_failed_trial_call_opens_the_breaker_again(
    healthy: Simulator, channel: grpc.Channel
) -> None:
    market = market_client(channel, attempts=1, breaker_reset=0.3, breaker_failures=2)
    healthy.faults(service=MARKET, fail=grpc.StatusCode.UNAVAILABLE)
    for _ in range(2):
        with pytest.raises(DependencyUnavailable):
            market.get_quote(AAPL)
    time.sleep(0.4)

    with pytest.raises(DependencyUnavailable):
        market.get_quote(AAPL)  # the half-open trial fails

    assert market.guard.state == "open"


def test_asset_properties_are_cached_and_prices_never(
    healthy: Simulator, channel: grpc.Channel
) -> None:
    market = market_client(channel, ttl=0.3)

    for _ in range(3):
        assert market.get_asset(AAPL) is not None
        assert market.is_market_open(AAPL)
    asked = market.guard.attempts["GetMarketData"]
    assert (market.cache_misses, market.cache_hits) == (1, 5)
    # One GetMarketData for the properties, one per is_market_open (the
    # simulator's open flag is live state, like a price).
    assert asked == 1 + 3

    for _ in range(3):
        market.get_quote(AAPL)
    # Every price is asked for, but the first: it is the answer the open check
    # just had (one decision, one read).
    assert market.guard.attempts["GetMarketData"] == asked + 2

    time.sleep(0.35)
    market.get_asset(AAPL)
    assert market.cache_misses == 2


def test_money_is_never_cached(healthy: Simulator, channel: grpc.Channel) -> None:
    balances = balance_client(channel)
    positions = position_client(channel)
    for _ in range(3):
        balances.get_balance(DEMO_USER)
        positions.get_position(DEMO_USER, AAPL)

    assert balances.guard.attempts["GetBalance"] == 3
    assert positions.guard.attempts["GetPositions"] == 3


def test_a_retried_money_call_moves_money_once(healthy: Simulator, channel: grpc.Channel) -> None:
    balances = balance_client(channel)
    before = balances.get_balance(DEMO_USER)
    order = uuid4()

    assert balances.move("CREDIT", DEMO_USER, order, Decimal("7.25"))
    assert not balances.move("CREDIT", DEMO_USER, order, Decimal("7.25"))  # the same call again
    # Lost answers: the peer fails the first attempt, the retry is the same call.
    healthy.faults(service=BALANCE, fail=grpc.StatusCode.UNAVAILABLE, count=1)
    assert not balances.move("CREDIT", DEMO_USER, order, Decimal("7.25"))

    after = balances.get_balance(DEMO_USER)
    assert after.cash - before.cash == Decimal("7.25")
    assert balances.movements(order) == (frozenset({"CREDIT"}), Decimal(0))

    assert balances.reverse("CREDIT", DEMO_USER, order)
    assert not balances.reverse("CREDIT", DEMO_USER, order)
    assert balances.get_balance(DEMO_USER).cash == before.cash


def test_market_data_down_while_processing_is_retried_and_executes_when_back(
    healthy: Simulator,
) -> None:
    """A service wired to the simulator's market data over gRPC: an order
    accepted while it is up, processed while it is down, waits on the retry
    schedule and executes once it answers again."""
    from order_adapters.bootstrap import bootstrap  # noqa: PLC0415
    from order_adapters.runners import InProcessProcessing  # noqa: PLC0415
    from order_adapters.settings import Settings  # noqa: PLC0415
    from order_core import OrderStatus, SubmitOrder  # noqa: PLC0415

    settings = Settings.of(
        database_url="memory://",
        market_data_url=healthy.url,
        market_data_retry_backoff=0.01,
        market_data_breaker_reset=0.2,
        broker_retry_delays="0.2,0.2,0.2,0.2",
    )
    with bootstrap(settings) as runtime:
        processing = InProcessProcessing.of(runtime)
        receipt = runtime.service.submit(
            SubmitOrder(
                user_id=DEMO_USER, symbol="KO", order_type="MARKET", order_side="BUY", quantity="1"
            )
        )
        healthy.faults(service=MARKET, fail=grpc.StatusCode.UNAVAILABLE)
        processing.pump()
        status = runtime.service.get_status(receipt.order_id, DEMO_USER).status
        assert status is OrderStatus.PENDING  # waiting for its retry, not failed

        healthy.faults()
        deadline = time.monotonic() + 10
        while status is not OrderStatus.EXECUTED and time.monotonic() < deadline:
            time.sleep(0.1)
            processing.pump()
            status = runtime.service.get_status(receipt.order_id, DEMO_USER).status
        assert status is OrderStatus.EXECUTED


def test_a_decision_reads_the_market_once_and_a_later_price_afresh(
    healthy: Simulator, channel: grpc.Channel
) -> None:
    market = market_client(channel)
    market.get_asset(AAPL)  # cached from here on
    served = healthy.calls("GetMarketData")
    assert market.is_market_open(AAPL)
    assert market.get_quote(AAPL) is not None  # the open flag's answer, used once
    assert healthy.calls("GetMarketData") == served + 1
    assert market.get_quote(AAPL) is not None  # a new decision: asked again
    assert healthy.calls("GetMarketData") == served + 2
    assert market.is_market_open(AAPL)
    time.sleep(0.3)  # too old to be the same decision
    assert market.get_quote(AAPL) is not None
    assert healthy.calls("GetMarketData") == served + 4
