"""What a CLI, a test or a demo may do to the simulated services beyond the
ports the order service uses: open accounts, move prices, open and close
markets. The in-memory and SQL flavours both satisfy these protocols."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from order_core.ports import Accounts, Balances, MarketData, Positions
from order_core.records import AccountBook, AssetDetails, Quote
from order_core.values import Symbol

__all__ = ["LedgerControls", "MarketControls"]


class LedgerControls(Protocol):
    """The simulated accounts, cash and positions: the ports the service uses,
    and what a CLI or a test needs to open and inspect accounts."""

    @property
    def accounts(self) -> Accounts: ...

    @property
    def balances(self) -> Balances: ...

    @property
    def positions(self) -> Positions: ...

    def open_account(
        self,
        user_id: UUID,
        *,
        cash: Decimal | str | int = 0,
        positions: Mapping[Symbol | str, Decimal | str | int] | None = None,
        active: bool = True,
        if_missing: bool = False,
    ) -> bool: ...

    def has_account(self, user_id: UUID) -> bool: ...

    def holdings(self, user_id: UUID) -> dict[Symbol, Decimal]: ...

    def books(self) -> list[AccountBook]:
        """Every account as opened and as it is now (what the audit checks)."""
        ...


class MarketControls(MarketData, Protocol):
    """The simulated market: the port the service reads, and the knobs."""

    def set_price(self, symbol: Symbol | str, price: Decimal | str) -> Quote: ...

    def set_market_open(self, is_open: bool, symbol: Symbol | str | None = None) -> None: ...

    def assets(self) -> list[tuple[AssetDetails, Quote, bool]]: ...

    def listing(self, symbol: Symbol) -> tuple[AssetDetails, Quote, bool] | None:
        """One symbol's asset, quote and whether its market is open, read
        together (the simulator's market-data answer); None when not listed."""
        ...
