"""An order whose user has no account (written by another tool, or the account
removed since) cannot settle: processing fails it, and no recovery pass takes
it up again. It used to stay PROCESSING, taken up by every pass of every
process, each opening a new connection."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from order_adapters.memory import InMemoryDatabase
from order_adapters.sql import SqlDatabase
from order_core import OrderSide, OrderType, Symbol
from order_core.order import Order
from order_core.results import ProcessOutcome
from order_core.values import Quantity
from tests.conftest import build_world

NOBODY = UUID("00000000-0000-4000-8000-0000000000ff")


def test_an_order_without_an_account_fails_once_and_is_left_alone(
    sql_database: SqlDatabase,
) -> None:
    _fails_once_and_is_left_alone(sql_database)


def test_the_memory_ledger_agrees() -> None:
    _fails_once_and_is_left_alone(InMemoryDatabase())


def _fails_once_and_is_left_alone(database: Any) -> None:
    world = build_world(database=database)
    now = world.clock.now()
    orphan = Order.place(
        id=UUID(int=7),
        user_id=NOBODY,
        symbol=Symbol("AAPL"),
        side=OrderSide.BUY,
        order_type=OrderType.MARKET,
        quantity=Quantity(Decimal(3)),
        price=None,
        stop_price=None,
        market_price=Decimal(150),
        market_data_timestamp=now,
        now=now,
    )
    with database.unit_of_work() as uow:
        uow.orders.add(orphan)
        uow.commit()
    world.clock.advance(timedelta(minutes=5))

    first = world.service.recover()

    assert first.examined == 1
    assert first.failed == (orphan.id,)
    details = world.order(orphan.id, NOBODY)
    assert details.status == "FAILED"
    assert "balance" in (details.failure_reason or "").lower()
    world.clock.advance(timedelta(minutes=5))
    assert world.service.recover().examined == 0
    assert world.service.process(orphan.id).outcome is ProcessOutcome.ALREADY_FINAL
