"""Simulated market data, accounts, cash and positions for the embedded default.

``listing`` (symbols and starting prices) needs nothing beyond the core;
``market.SimulatedMarket`` and ``ledger.SqlLedger`` keep their state in the
service's database and need the ``sql`` extra.
"""

from order_adapters.simulated.listing import (
    DEFAULT_LISTING,
    Listing,
    PricesFileError,
    read_prices_file,
)

__all__ = ["DEFAULT_LISTING", "Listing", "PricesFileError", "read_prices_file"]
