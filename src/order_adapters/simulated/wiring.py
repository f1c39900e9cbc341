"""Wiring of ``simulated`` market data, accounts, cash and positions: in memory
beside an in-memory database, or in tables of the service's SQL database (so
prices and balances carry over between invocations), with the demo account."""

from __future__ import annotations

from contextlib import ExitStack

from order_adapters.memory.database import InMemoryDatabase
from order_adapters.settings import Settings, SettingsError
from order_adapters.simulated.controls import LedgerControls, MarketControls
from order_adapters.simulated.demo import DEMO_CASH, DEMO_POSITIONS, DEMO_USER
from order_adapters.simulated.listing import (
    DEFAULT_LISTING,
    Listing,
    PricesFileError,
    read_prices_file,
)
from order_adapters.simulated.memory_ledger import InMemoryLedger
from order_adapters.simulated.memory_market import InMemoryMarketData
from order_core.ports import Clock
from order_core.records import AssetDetails
from order_core.values import Symbol

__all__ = ["check", "open_simulator"]


def check(settings: Settings) -> Listing:
    """The listing the market starts with (the prices file's, or the built-in one)."""
    if settings.prices_file is None:
        return DEFAULT_LISTING
    try:
        return read_prices_file(settings.prices_file)
    except PricesFileError as error:
        raise SettingsError(str(error), setting="prices_file") from error


def open_simulator(
    settings: Settings, database: object, clock: Clock, resources: ExitStack
) -> tuple[MarketControls, LedgerControls, str]:
    """The simulated market and ledger kept where ``database`` keeps orders."""
    listing = check(settings)
    if isinstance(database, InMemoryDatabase):
        market = InMemoryMarketData(clock)
        for symbol, (name, category, price) in listing.items():
            market.list_asset(AssetDetails(Symbol(symbol), name, category), price)
        ledger = InMemoryLedger()
        ledger.open_account(DEMO_USER, cash=DEMO_CASH, positions=DEMO_POSITIONS)
        database.attach_ledger(ledger)  # money moves with the orders, in one commit
        return market, ledger, "simulated, in memory"
    return _in_sql(settings, database, listing, clock, resources)


def _in_sql(
    settings: Settings, database: object, listing: Listing, clock: Clock, resources: ExitStack
) -> tuple[MarketControls, LedgerControls, str]:
    from order_adapters.simulated.sql_ledger import SqlLedger  # noqa: PLC0415
    from order_adapters.simulated.sql_market import SqlMarketData  # noqa: PLC0415
    from order_adapters.sql import SqlDatabase  # noqa: PLC0415  # the sql extra, present here

    assert isinstance(database, SqlDatabase)
    url = database.engine.url.render_as_string(hide_password=False)
    # The stand-ins for other services get a pool of their own, so a submission
    # holding a connection never waits on its own pool for the market.
    simulator = SqlDatabase.from_url(url, settings.database)
    resources.callback(simulator.dispose)
    market = SqlMarketData(simulator, clock)
    listed = {asset.symbol for asset, _, _ in market.assets()}
    if not listed:
        market.list_assets(listing)
    elif settings.prices_file is not None:  # listed prices move only with set_price
        market.list_assets({s: v for s, v in listing.items() if Symbol(s) not in listed})
    ledger = SqlLedger(simulator)
    ledger.open_account(DEMO_USER, cash=DEMO_CASH, positions=DEMO_POSITIONS, if_missing=True)
    # Money moves in the order's own transaction, on the unit of work's connection.
    database.attach_ledger(ledger.within)
    return market, ledger, "simulated, kept in the database"
