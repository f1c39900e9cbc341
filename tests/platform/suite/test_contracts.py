"""The market data, balance and positions contracts, held by the in-process
simulated stand-ins and by the gRPC clients talking to `orders simulate`."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID, uuid4

import pytest

from order_adapters.bootstrap import bootstrap
from order_adapters.settings import Settings
from order_adapters.simulated import DEMO_USER
from order_core.errors import InsufficientBalance
from order_core.ports import Accounts, Balances, MarketData, Positions, UnitOfWorkFactory
from order_core.values import Symbol
from tests.platform.suite.conftest import Simulator

AAPL, MSFT, NOPE = Symbol("AAPL"), Symbol("MSFT"), Symbol("NOPE")
STRANGER = UUID("22222222-2222-4222-8222-222222222222")


class Platform(NamedTuple):
    market: MarketData
    accounts: Accounts
    balances: Balances
    positions: Positions
    units: UnitOfWorkFactory


def remote_settings(sim: Simulator, **more: object) -> Settings:
    return Settings.of(
        database_url="memory://",
        market_data_url=sim.url,
        balance_url=sim.url,
        positions_url=sim.url,
        market_data_trading_hours="00:00-24:00",
        market_data_retry_backoff=0.01,
        balance_retry_backoff=0.01,
        positions_retry_backoff=0.01,
        **more,
    )


@pytest.fixture(params=["simulated", "grpc"])
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    if request.param == "simulated":
        settings = Settings.of(database_url="memory://")
    else:
        sim: Simulator = request.getfixturevalue("healthy")
        settings = remote_settings(sim)
    with bootstrap(settings) as runtime:
        deps = runtime.service.dependencies
        yield Platform(
            deps.market_data,
            deps.accounts,
            runtime.ledger.balances,
            runtime.ledger.positions,
            deps.unit_of_work,
        )


# -- market data --------------------------------------------------------------------


def test_a_listed_asset_is_found_with_its_name_and_step(platform: Platform) -> None:
    asset = platform.market.get_asset(AAPL)

    assert asset is not None
    assert (asset.symbol, asset.name, asset.tradeable) == (AAPL, "Apple Inc.", True)
    assert asset.tick_size in {None, Decimal("0.01")}


def test_an_unknown_symbol_is_none_not_an_outage(platform: Platform) -> None:
    assert platform.market.get_asset(NOPE) is None
    assert platform.market.get_quote(NOPE) is None


def test_a_quote_is_the_exact_listed_price(platform: Platform) -> None:
    quote = platform.market.get_quote(AAPL)

    assert quote is not None
    assert (quote.symbol, quote.price) == (AAPL, Decimal("189.50"))
    assert quote.timestamp.tzinfo is not None


def test_a_batch_leaves_unknown_symbols_out(platform: Platform) -> None:
    quotes = platform.market.get_quotes([AAPL, MSFT, NOPE])

    assert set(quotes) == {AAPL, MSFT}
    assert quotes[MSFT].price == Decimal("415.20")
    assert platform.market.get_quotes([]) == {}


def test_the_market_is_open(platform: Platform) -> None:
    assert platform.market.is_market_open(AAPL)
    assert platform.market.get_trading_hours(AAPL).is_open


# -- accounts, balances, positions --------------------------------------------------


def test_the_demo_account_is_active_and_may_trade(platform: Platform) -> None:
    account = platform.accounts.get_account(DEMO_USER)

    assert account is not None and account.active
    assert platform.accounts.can_trade(DEMO_USER, AAPL)
    assert platform.accounts.get_account(STRANGER) is None
    assert not platform.accounts.can_trade(STRANGER, AAPL)
    assert platform.accounts.trading_status(DEMO_USER, AAPL) == (account, True)
    assert platform.accounts.trading_status(STRANGER, AAPL) == (None, False)


def test_balances_read_cash_and_what_is_held(platform: Platform) -> None:
    balance = platform.balances.get_balance(DEMO_USER)

    assert balance.cash >= balance.reserved >= 0
    stranger = platform.balances.get_balance(STRANGER)
    assert (stranger.cash, stranger.reserved) == (Decimal(0), Decimal(0))


def test_positions_read_holdings(platform: Platform) -> None:
    assert platform.positions.get_position(DEMO_USER, Symbol("NVDA")).quantity == 40
    assert platform.positions.get_position(DEMO_USER, NOPE).quantity == 0


# -- money in a unit of work ----------------------------------------------------------


def _cash(platform: Platform) -> tuple[Decimal, Decimal]:
    balance = platform.balances.get_balance(DEMO_USER)
    return balance.cash, balance.reserved


def test_a_committed_hold_is_held_and_released(platform: Platform) -> None:
    cash, reserved = _cash(platform)
    order = uuid4()
    with platform.units() as uow:
        uow.orders.lock_user(DEMO_USER)
        uow.ledger.hold(DEMO_USER, order, Decimal("100"))
        uow.commit()
    assert _cash(platform) == (cash, reserved + 100)

    with platform.units() as uow:
        uow.orders.lock_user(DEMO_USER)
        uow.ledger.release(DEMO_USER, order, Decimal("100"))
        uow.commit()
    assert _cash(platform) == (cash, reserved)


def test_a_hold_not_committed_moves_nothing(platform: Platform) -> None:
    before = _cash(platform)
    with platform.units() as uow:
        uow.orders.lock_user(DEMO_USER)
        uow.ledger.hold(DEMO_USER, uuid4(), Decimal("250"))
        uow.rollback()
    with platform.units() as uow:
        uow.orders.lock_user(DEMO_USER)
        uow.ledger.hold(DEMO_USER, uuid4(), Decimal("250"))
        # left without commit

    assert _cash(platform) == before


def test_a_hold_beyond_the_available_cash_is_refused(platform: Platform) -> None:
    before = _cash(platform)
    with platform.units() as uow, pytest.raises(InsufficientBalance) as refused:
        uow.orders.lock_user(DEMO_USER)
        uow.ledger.hold(DEMO_USER, uuid4(), Decimal("100000000"))
        uow.commit()

    assert refused.value.value == Decimal("100000000")
    assert _cash(platform) == before


def test_a_settled_buy_pays_and_lets_its_hold_go(platform: Platform) -> None:
    cash, reserved = _cash(platform)
    order = uuid4()
    with platform.units() as uow:
        uow.orders.lock_user(DEMO_USER)
        uow.ledger.hold(DEMO_USER, order, Decimal("50"))
        uow.commit()
    with platform.units() as uow:
        uow.orders.lock_user(DEMO_USER)
        uow.ledger.settle(DEMO_USER, order, paid=Decimal("-40"), held=Decimal("50"))
        uow.commit()

    assert _cash(platform) == (cash - 40, reserved)


def test_a_settled_sell_is_credited(platform: Platform) -> None:
    cash, reserved = _cash(platform)
    with platform.units() as uow:
        uow.orders.lock_user(DEMO_USER)
        uow.ledger.settle(DEMO_USER, uuid4(), paid=Decimal("12.5"), held=Decimal(0))
        uow.commit()

    assert _cash(platform) == (cash + Decimal("12.5"), reserved)
