"""The simulated market answers one symbol's market data with one read: the
simulator serves every GetMarketData from it (it used to read the row three
times, once per field)."""

from __future__ import annotations

from decimal import Decimal

from order_adapters.memory import ManualClock
from order_adapters.simulated import InMemoryMarketData
from order_adapters.simulated.sql_market import SqlMarketData
from order_adapters.sql import SqlDatabase
from order_core import Symbol
from order_core.records import AssetDetails

AAPL, NOPE = Symbol("AAPL"), Symbol("NOPE")


def test_a_listing_is_one_read_and_says_what_the_three_reads_say(
    sql_database: SqlDatabase,
) -> None:
    clock = ManualClock()
    market = SqlMarketData(sql_database, clock)
    market.list_assets({"AAPL": ("Apple Inc.", "equity", Decimal("150.25"))})
    market.set_market_open(False, "AAPL")

    with sql_database.counter.measure() as read:
        listing = market.listing(AAPL)

    assert read.statements == 1
    assert listing == (market.get_asset(AAPL), market.get_quote(AAPL), False)
    assert listing is not None and listing[1].price == Decimal("150.25")
    assert market.listing(NOPE) is None


def test_the_memory_market_lists_alike() -> None:
    market = InMemoryMarketData(ManualClock())
    market.list_asset(AssetDetails(AAPL, "Apple Inc.", "equity"), Decimal("150.25"))
    market.set_market_open(False, AAPL)
    assert market.listing(AAPL) == (market.get_asset(AAPL), market.get_quote(AAPL), False)
    assert market.listing(NOPE) is None
