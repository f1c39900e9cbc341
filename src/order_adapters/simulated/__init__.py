"""Stand-ins for the services the order service does not own: market data,
accounts, cash and positions, with the controls a CLI or a test turns and the
demo account.

The in-memory flavours (:class:`InMemoryMarketData`, :class:`InMemoryLedger`)
need nothing beyond the standard library. The SQL flavours keep their state in
the service's database and need the ``sql`` extra: import them from
:mod:`order_adapters.simulated.sql_market` (``SqlMarketData``) and
:mod:`order_adapters.simulated.sql_ledger` (``SqlLedger``).
"""

from order_adapters.simulated.controls import LedgerControls, MarketControls
from order_adapters.simulated.demo import DEMO_CASH, DEMO_POSITIONS, DEMO_USER
from order_adapters.simulated.listing import (
    DEFAULT_LISTING,
    Listing,
    PricesFileError,
    read_prices_file,
)
from order_adapters.simulated.memory_ledger import (
    InMemoryAccounts,
    InMemoryBalances,
    InMemoryLedger,
    InMemoryPositions,
)
from order_adapters.simulated.memory_market import InMemoryMarketData

__all__ = [
    "DEFAULT_LISTING",
    "DEMO_CASH",
    "DEMO_POSITIONS",
    "DEMO_USER",
    "InMemoryAccounts",
    "InMemoryBalances",
    "InMemoryLedger",
    "InMemoryMarketData",
    "InMemoryPositions",
    "LedgerControls",
    "Listing",
    "MarketControls",
    "PricesFileError",
    "read_prices_file",
]
