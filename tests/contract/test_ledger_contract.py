"""The simulated account, balance and position services' contract: what the
order service relies on from every implementation (in memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from order_core import (
    InsufficientBalance,
    InsufficientPosition,
    OrderExecuted,
    OrderSide,
    OrderType,
    Symbol,
)
from tests.contract.factories import T0, USER_A, USER_B, new_id

D = Decimal
AAPL = Symbol("AAPL")


@pytest.fixture
def funded(ledger: Any) -> Any:
    ledger.open_account(USER_A, cash="1000", positions={"AAPL": "10"})
    return ledger


def balance(ledger: Any, user: UUID = USER_A) -> tuple[Decimal, Decimal]:
    current = ledger.balances.get_balance(user)
    return current.cash, current.reserved


def executed(order: UUID, side: OrderSide, quantity: str, user: UUID = USER_A) -> OrderExecuted:
    return OrderExecuted(
        order_id=order,
        user_id=user,
        symbol=AAPL,
        order_side=side,
        order_type=OrderType.MARKET,
        quantity=D(quantity),
        occurred_at=T0,
        execution_price=D("100"),
        executed_at=T0,
        total_value=D("100") * D(quantity),
        market_price_at_exec=D("100"),
        market_data_timestamp=T0,
    )


def test_accounts(funded: Any) -> None:
    status = funded.accounts.get_account(USER_A)
    assert status is not None and status.active
    assert funded.accounts.can_trade(USER_A, AAPL)
    assert funded.accounts.get_account(USER_B) is None
    assert not funded.accounts.can_trade(USER_B, AAPL)
    funded.set_active(USER_A, False)
    assert not funded.accounts.can_trade(USER_A, AAPL)


def test_a_hold_is_checked_kept_once_and_released(funded: Any) -> None:
    order = new_id()
    funded.balances.reserve(USER_A, D("600"), order)
    funded.balances.reserve(USER_A, D("600"), order)  # the same order: no second hold
    assert balance(funded) == (D("1000"), D("600"))
    with pytest.raises(InsufficientBalance) as caught:
        funded.balances.reserve(USER_A, D("400.01"), new_id())
    assert caught.value.to_dict()["limit"] == "400"
    funded.balances.release(USER_A, order)
    funded.balances.release(USER_A, order)
    assert balance(funded) == (D("1000"), D("0"))


def test_a_deduct_consumes_its_hold_and_happens_once(funded: Any) -> None:
    order = new_id()
    funded.balances.reserve(USER_A, D("300"), order)
    funded.balances.deduct(USER_A, D("310.5"), order)  # the price moved up a little
    funded.balances.deduct(USER_A, D("310.5"), order)
    assert balance(funded) == (D("689.5"), D("0"))


def test_a_deduct_beyond_cash_and_own_hold_is_refused(funded: Any) -> None:
    order = new_id()
    funded.balances.reserve(USER_A, D("500"), order)
    funded.balances.reserve(USER_A, D("400"), new_id())
    with pytest.raises(InsufficientBalance) as caught:
        funded.balances.deduct(USER_A, D("600.01"), order)
    assert caught.value.to_dict()["limit"] == "600"  # 1000 - 900 held + its own 500
    assert balance(funded) == (D("1000"), D("900"))


def test_credit_and_reverse(funded: Any) -> None:
    sold, bought, held = new_id(), new_id(), new_id()
    funded.balances.credit(USER_A, D("250"), sold)
    funded.balances.credit(USER_A, D("250"), sold)
    funded.balances.reserve(USER_A, D("100"), bought)
    funded.balances.deduct(USER_A, D("100"), bought)
    funded.balances.reserve(USER_A, D("50"), held)
    assert balance(funded) == (D("1150"), D("50"))
    for order in (sold, bought, held):
        funded.balances.reverse(USER_A, order)
        funded.balances.reverse(USER_A, order)
    assert balance(funded) == (D("1000"), D("0"))
    funded.balances.deduct(USER_A, D("100"), bought)  # a reversed order moves nothing more
    funded.balances.reserve(USER_A, D("10"), held)
    assert balance(funded) == (D("1000"), D("0"))


def test_an_unknown_user_has_nothing(ledger: Any) -> None:
    assert balance(ledger, USER_B) == (0, 0)
    with pytest.raises(InsufficientBalance):
        ledger.balances.reserve(USER_B, D("1"), new_id())
    position = ledger.positions.get_position(USER_B, AAPL)
    assert (position.quantity, position.reserved) == (0, 0)


def test_a_sell_holds_its_quantity_until_the_execution_is_applied(funded: Any) -> None:
    order = new_id()
    funded.positions.reserve(USER_A, AAPL, D("6"), order)
    funded.positions.reserve(USER_A, AAPL, D("6"), order)
    with pytest.raises(InsufficientPosition) as caught:
        funded.positions.reserve(USER_A, AAPL, D("4.5"), new_id())
    assert caught.value.to_dict()["limit"] == "4"
    position = funded.positions.get_position(USER_A, AAPL)
    assert (position.quantity, position.reserved, position.available) == (10, 6, 4)
    funded.apply_execution(executed(order, OrderSide.SELL, "6"))
    funded.apply_execution(executed(order, OrderSide.SELL, "6"))  # delivered twice
    position = funded.positions.get_position(USER_A, AAPL)
    assert (position.quantity, position.reserved) == (4, 0)
    funded.positions.reserve(USER_A, AAPL, D("1"), order)  # applied: no new hold
    assert funded.positions.get_position(USER_A, AAPL).reserved == 0


def test_released_holds_and_buys(funded: Any) -> None:
    order = new_id()
    funded.positions.reserve(USER_A, AAPL, D("3"), order)
    funded.positions.release(USER_A, order)
    funded.positions.release(USER_A, order)
    assert funded.positions.get_position(USER_A, AAPL).reserved == 0
    funded.apply_execution(executed(new_id(), OrderSide.BUY, "2.5"))
    funded.apply_execution(executed(new_id(), OrderSide.BUY, "1", user=USER_B))
    assert funded.positions.get_position(USER_A, AAPL).quantity == D("12.5")
    assert funded.positions.get_position(USER_B, AAPL).quantity == 1
    assert funded.holdings(USER_A) == {AAPL: D("12.5")}
