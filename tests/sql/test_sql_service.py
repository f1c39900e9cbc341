"""The use cases with a SQL database as the system of record, on SQLite and on
PostgreSQL: what the embedded default and a production deployment rely on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from order_core import (
    IdempotencyKeyReused,
    OrderNotCancellable,
    OrderStatus,
    RiskRejected,
    SubmitOrder,
    Symbol,
)
from tests.conftest import ALICE, BOB, World

D = Decimal


def test_an_order_lives_its_life(sql_world: World) -> None:
    market_id = sql_world.submit(quantity="2")
    limit_id = sql_world.submit(order_type="LIMIT", price="145", quantity="1")
    sql_world.runtime.pump()
    assert sql_world.order(market_id).status is OrderStatus.EXECUTED
    assert sql_world.order(market_id).execution_value == D("300")
    assert sql_world.order(limit_id).status is OrderStatus.PENDING
    sql_world.market.set_price("AAPL", "144.5")
    assert sql_world.service.sweep().executed == (limit_id,)
    sql_world.runtime.pump()
    assert sql_world.order(limit_id).execution_price == D("144.5")
    assert sql_world.ledger.positions.get_position(ALICE, Symbol("AAPL")).quantity == D("53")
    assert sql_world.database.outbox.pending_count() == 0


def test_decimals_survive_exactly(sql_world: World) -> None:
    sql_world.ledger.open_account(ALICE, cash="9999999999")
    order_id = sql_world.submit(order_type="LIMIT", price="149.99", quantity="0.12345678")
    details = sql_world.order(order_id)
    assert details.quantity == D("0.12345678")
    assert details.price == D("149.99")
    assert details.estimated_value == D("18.51728243")  # 18.5172824322 to 8 places


def test_cancel_releases_and_refuses_twice(sql_world: World) -> None:
    order_id = sql_world.submit(order_type="LIMIT", price="140", quantity="10")
    receipt = sql_world.service.cancel(order_id, ALICE)
    assert receipt.status is OrderStatus.CANCELLED
    assert sql_world.ledger.balances.get_balance(ALICE).reserved == 0
    with pytest.raises(OrderNotCancellable):
        sql_world.service.cancel(order_id, ALICE)


def test_history_pages_newest_first_with_totals(sql_world: World) -> None:
    ids = []
    for n in range(1, 6):
        ids.append(sql_world.submit(quantity=str(n)))
        sql_world.clock.advance(timedelta(seconds=1))
    sql_world.submit(user_id=BOB, symbol="TSLA", order_side="SELL")
    page = sql_world.service.get_history(ALICE, limit=2, offset=1)
    assert [o.order_id for o in page.orders] == ids[::-1][1:3]
    assert page.total_count == 5
    last = sql_world.service.get_history(ALICE, limit=2, offset=4)
    assert [o.order_id for o in last.orders] == [ids[0]]
    assert last.total_count == 5
    beyond = sql_world.service.get_history(ALICE, limit=2, offset=9)
    assert (beyond.orders, beyond.total_count) == ((), 5)


def test_idempotency_replays_and_refuses_from_the_database(sql_world: World) -> None:
    command = SubmitOrder(ALICE, "AAPL", "MARKET", "BUY", "3", idempotency_key="once")
    first = sql_world.service.submit(command)
    again = sql_world.service.submit(command)
    assert again.replayed and again.order_id == first.order_id
    with pytest.raises(IdempotencyKeyReused):
        sql_world.service.submit(
            SubmitOrder(ALICE, "AAPL", "MARKET", "BUY", "4", idempotency_key="once")
        )
    with pytest.raises(RiskRejected) as rejected:
        sql_world.service.submit(
            SubmitOrder(ALICE, "AAPL", "MARKET", "BUY", "5000", idempotency_key="too-big")
        )
    with pytest.raises(RiskRejected) as replayed:
        sql_world.service.submit(
            SubmitOrder(ALICE, "AAPL", "MARKET", "BUY", "5000", idempotency_key="too-big")
        )
    assert replayed.value.to_dict() == rejected.value.to_dict()
    assert sql_world.service.get_history(ALICE).total_count == 1
