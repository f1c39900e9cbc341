"""Submitting orders: what is stored, what is refused, and de-duplication."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from order_adapters.memory import InMemoryIdempotencyStore
from order_core import (
    DependencyUnavailable,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    IdempotencyPolicy,
    InvalidInput,
    OrderPolicy,
    OrderRejected,
    OrderService,
    OrderStatus,
    OrderSubmitted,
    RiskPolicy,
    RiskRejected,
    SubmitOrder,
    ValidationRejected,
)
from order_core.records import IdempotencyRecord, IdempotencyState, Quote
from order_core.rules.idempotency import request_fingerprint
from order_core.values import Symbol
from tests.conftest import ALICE, BOB, World, build_world

D = Decimal


def command(**fields: object) -> SubmitOrder:
    values: dict[str, object] = {
        "user_id": ALICE,
        "symbol": "AAPL",
        "order_type": "MARKET",
        "order_side": "BUY",
        "quantity": "2",
    }
    values.update(fields)
    return SubmitOrder(**values)  # type: ignore[arg-type]


def outbox_events(world: World) -> list[object]:
    with world.database.outbox.claim(10_000) as batch:
        return [message.event for message in batch.messages]


def test_submit_stores_a_pending_order_with_its_outbox_message(world: World) -> None:
    receipt = world.service.submit(command(quantity="2"))
    assert receipt.status is OrderStatus.PENDING
    assert (receipt.estimated_price, receipt.estimated_value) == (D("150"), D("300"))
    assert receipt.market_price == D("150")
    assert receipt.submitted_at == world.clock.now()
    assert not receipt.replayed
    details = world.order(receipt.order_id)
    assert details.status is OrderStatus.PENDING
    assert details.market_price_at_submission == D("150")
    (event,) = outbox_events(world)
    assert isinstance(event, OrderSubmitted) and event.order_id == receipt.order_id


def test_a_buy_reserves_its_estimated_value(world: World) -> None:
    world.service.submit(command(order_type="LIMIT", price="149.50", quantity="4"))
    assert world.ledger.balances.get_balance(ALICE).reserved == D("598")


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"quantity": "-1"}, "quantity", "NOT_POSITIVE"),
        ({"quantity": "ten"}, "quantity", "NOT_A_NUMBER"),
        ({"order_side": "HOLD"}, "order_side", "UNKNOWN_ORDER_SIDE"),
        ({"order_type": "ICEBERG"}, "order_type", "UNKNOWN_ORDER_TYPE"),
        ({"order_type": "LIMIT"}, "price", "PRICE_REQUIRED"),
        ({"user_id": "bob"}, "user_id", "INVALID_UUID"),
        ({"symbol": "AA PL"}, "symbol", "INVALID_SYMBOL"),
        ({"idempotency_key": ""}, "idempotency_key", "INVALID_IDEMPOTENCY_KEY"),
        ({"idempotency_key": "has space"}, "idempotency_key", "INVALID_IDEMPOTENCY_KEY"),
    ],
)
def test_malformed_input_is_refused_before_anything_happens(
    world: World, fields: dict[str, object], field: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        world.service.submit(command(**fields))
    assert (caught.value.field, caught.value.code) == (field, code)
    assert len(world.database) == 0
    assert world.database.outbox.pending_count() == 0


@pytest.mark.parametrize(
    ("fields", "error", "code"),
    [
        ({"user_id": str(UUID(int=999))}, ValidationRejected, "ACCOUNT_NOT_FOUND"),
        ({"symbol": "NOPE"}, ValidationRejected, "SYMBOL_NOT_FOUND"),
        ({"order_type": "LIMIT", "price": "200"}, ValidationRejected, "PRICE_OUTSIDE_TOLERANCE"),
        ({"order_side": "SELL", "quantity": "51"}, ValidationRejected, "INSUFFICIENT_POSITION"),
        ({"quantity": "1000"}, RiskRejected, "INSUFFICIENT_BALANCE"),
    ],
)
def test_rule_rejections_store_nothing_and_hold_nothing(
    world: World, fields: dict[str, object], error: type[OrderRejected], code: str
) -> None:
    with pytest.raises(error) as caught:
        world.service.submit(command(**fields))
    assert caught.value.code == code
    assert len(world.database) == 0
    assert world.database.outbox.pending_count() == 0
    assert world.ledger.balances.get_balance(ALICE).reserved == 0


def test_closed_market_is_refused(world: World) -> None:
    world.market.set_market_open(False, "AAPL")
    with pytest.raises(ValidationRejected) as caught:
        world.service.submit(command())
    assert caught.value.code == "MARKET_CLOSED"


def test_open_sells_hold_their_quantity(world: World) -> None:
    first = world.service.submit(
        command(order_side="SELL", order_type="LIMIT", price="160", quantity="30")
    )
    with pytest.raises(ValidationRejected) as caught:
        world.service.submit(command(order_side="SELL", quantity="21"))
    assert caught.value.to_dict()["limit"] == "20"
    world.service.cancel(first.order_id, ALICE)
    assert world.service.submit(command(order_side="SELL", quantity="21")).order_id


def test_an_executed_sell_holds_until_the_keeper_applies_it(world: World) -> None:
    order_id = world.service.submit(command(order_side="SELL", quantity="30")).order_id
    world.service.process(order_id)  # executed; its position update not applied yet
    position = world.ledger.positions.get_position(ALICE, Symbol("AAPL"))
    assert position.quantity == D("50")
    assert world.service.get_pending_quantities(ALICE, "AAPL").selling == D("30")
    with pytest.raises(ValidationRejected):
        world.service.submit(command(order_side="SELL", quantity="21"))
    world.runtime.pump()
    position = world.ledger.positions.get_position(ALICE, Symbol("AAPL"))
    assert position.quantity == D("20")
    assert world.service.get_pending_quantities(ALICE, "AAPL").selling == 0


def test_daily_order_limit_counts_todays_orders_only() -> None:
    world = build_world(OrderPolicy(risk=RiskPolicy(max_daily_orders=2)))
    for key in ("a", "b"):
        world.service.submit(command(idempotency_key=key))
    with pytest.raises(RiskRejected) as caught:
        world.service.submit(command(idempotency_key="c"))
    assert caught.value.code == "DAILY_ORDER_LIMIT_REACHED"
    world.clock.advance(timedelta(days=1))
    world.service.submit(command(idempotency_key="c"))


# -- idempotency: durable records only (the default) --------------------------------


def test_same_client_key_same_request_replays_the_original(world: World) -> None:
    first = world.service.submit(command(idempotency_key="order-1"))
    world.clock.advance(timedelta(minutes=5))
    world.market.set_price("AAPL", "151")
    again = world.service.submit(command(idempotency_key="order-1"))
    assert again.replayed
    assert again._replace(replayed=False) == first
    assert len(world.database) == 1


def test_a_retry_replays_even_when_its_own_first_order_made_the_rules_refuse(
    world: World,
) -> None:
    first = world.service.submit(command(quantity="600", idempotency_key="big-buy"))
    assert world.ledger.balances.get_balance(ALICE).available == D("10000")  # 90,000 held
    again = world.service.submit(command(quantity="600", idempotency_key="big-buy"))
    assert again.replayed and again.order_id == first.order_id
    assert len(world.database) == 1


def test_same_client_key_different_request_is_refused(world: World) -> None:
    world.service.submit(command(idempotency_key="order-1"))
    with pytest.raises(IdempotencyKeyReused) as caught:
        world.service.submit(command(idempotency_key="order-1", quantity="3"))
    assert caught.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert len(world.database) == 1


def test_client_keys_are_scoped_to_their_user(world: World) -> None:
    mine = world.service.submit(command(idempotency_key="k"))
    theirs = world.service.submit(command(user_id=BOB, idempotency_key="k"))
    assert mine.order_id != theirs.order_id
    assert not theirs.replayed


def test_a_rejection_under_a_client_key_is_replayed(world: World) -> None:
    with pytest.raises(RiskRejected) as first:
        world.service.submit(command(quantity="1000", idempotency_key="big"))
    world.ledger.open_account(ALICE, cash="10000000")  # now it would pass...
    with pytest.raises(RiskRejected) as again:
        world.service.submit(command(quantity="1000", idempotency_key="big"))
    assert again.value.to_dict() == first.value.to_dict()  # ...but the answer stands
    assert len(world.database) == 0


def test_without_a_key_the_seeds_derived_key_deduplicates(world: World) -> None:
    first = world.service.submit(command())
    again = world.service.submit(command())
    assert again.replayed and again.order_id == first.order_id
    other = world.service.submit(command(quantity="3"))
    assert other.order_id != first.order_id


def test_derived_keys_expire_with_their_window(world: World) -> None:
    first = world.service.submit(command())
    world.clock.advance(timedelta(hours=24))
    later = world.service.submit(command())
    assert later.order_id != first.order_id


def test_derived_keys_can_be_turned_off() -> None:
    world = build_world(OrderPolicy(idempotency=IdempotencyPolicy(derived_key_window=timedelta(0))))
    assert world.submit() != world.submit()


def test_a_rejection_under_a_derived_key_is_not_remembered(world: World) -> None:
    with pytest.raises(RiskRejected):
        world.service.submit(command(quantity="1000"))
    world.ledger.open_account(ALICE, cash="10000000")
    assert world.service.submit(command(quantity="1000")).status is OrderStatus.PENDING


class FlakyMarket:
    """Market data that can be switched off."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.down = False

    def __getattr__(self, name: str) -> object:
        if self.down:
            raise DependencyUnavailable("market data", "connection refused")
        return getattr(self.inner, name)


def with_gate(
    world: World, *, market: object | None = None
) -> tuple[OrderService, InMemoryIdempotencyStore]:
    gate = InMemoryIdempotencyStore()
    dependencies = dataclasses.replace(
        world.service.dependencies,
        idempotency_gate=gate,
        market_data=market or world.service.dependencies.market_data,  # type: ignore[arg-type]
    )
    return OrderService(dependencies), gate


def test_a_dependency_outage_stores_nothing_and_frees_the_key(world: World) -> None:
    market = FlakyMarket(world.market)
    service, gate = with_gate(world, market=market)
    market.down = True
    with pytest.raises(DependencyUnavailable):
        service.submit(command(idempotency_key="k"))
    assert len(world.database) == 0 and len(gate) == 0
    assert world.ledger.balances.get_balance(ALICE).reserved == 0
    market.down = False
    assert not service.submit(command(idempotency_key="k")).replayed


# -- idempotency: a fast store in front of the durable records ------------------------


def test_gate_replays_and_refuses_like_the_durable_records(world: World) -> None:
    service, gate = with_gate(world)
    first = service.submit(command(idempotency_key="k"))
    record = gate.get(f"{ALICE}:k", world.clock.now())
    assert record is not None and record.state is IdempotencyState.COMPLETED
    assert service.submit(command(idempotency_key="k")).order_id == first.order_id
    with pytest.raises(IdempotencyKeyReused):
        service.submit(command(idempotency_key="k", quantity="5"))


def test_an_in_flight_duplicate_is_told_to_retry_and_creates_nothing(world: World) -> None:
    service, gate = with_gate(world)
    claim = command(idempotency_key="k").parse()
    gate.begin(
        IdempotencyRecord.pending(
            key=f"{ALICE}:k",
            user_id=ALICE,
            fingerprint=request_fingerprint(claim),
            token="someone-else",
            now=world.clock.now(),
            ttl=timedelta(hours=24),
        )
    )
    with pytest.raises(IdempotencyInProgress) as caught:
        service.submit(command(idempotency_key="k"))
    assert caught.value.retry_after_seconds == 30
    assert len(world.database) == 0
    # The first submitter crashed: after the lock timeout its key is taken over.
    world.clock.advance(timedelta(seconds=30))
    receipt = service.submit(command(idempotency_key="k"))
    assert not receipt.replayed and len(world.database) == 1


def test_the_database_is_the_truth_when_the_gate_forgot(world: World) -> None:
    service, gate = with_gate(world)
    first = service.submit(command(idempotency_key="k"))
    gate.release(f"{ALICE}:k", "nobody")  # no effect: not the owner
    gate._rows.clear()  # the fast store lost everything (a failover)
    again = service.submit(command(idempotency_key="k"))
    assert again.replayed and again.order_id == first.order_id
    assert len(world.database) == 1
    assert world.ledger.balances.get_balance(ALICE).reserved == D(
        "300"
    )  # the retry's hold was released
    healed = gate.get(f"{ALICE}:k", world.clock.now())
    assert healed is not None and healed.order_id == first.order_id


def test_no_market_price_is_a_rejection(world: World) -> None:
    class NoQuotes(FlakyMarket):
        def get_quote(self, symbol: Symbol) -> Quote | None:
            return None

    no_quotes = NoQuotes(world.market)
    service = OrderService(
        dataclasses.replace(world.service.dependencies, market_data=no_quotes)  # type: ignore[arg-type]
    )
    with pytest.raises(ValidationRejected) as caught:
        service.submit(command())
    assert caught.value.field == "symbol"
