"""The runtime's market and ledger controls when the platform is remote: the
read ports answer from the platform's services; what only a simulator can do
(move a price, open an account, list the market, audit the books) is refused
with :class:`NotControllable`, a clear error rather than a traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from order_core.errors import ErrorCategory, OrderError
from order_core.ports import Accounts, Balances, MarketData, Positions
from order_core.records import AccountBook, AssetDetails, Quote, TradingHours
from order_core.values import Symbol

__all__ = ["NotControllable", "RemoteLedgerControls", "RemoteMarketControls"]


class NotControllable(OrderError):
    """The market or the ledger is the platform's (``grpc://``): it cannot be
    changed or listed from here."""

    default_code = "REMOTE_PLATFORM"
    category = ErrorCategory.WRONG_STATE

    def __init__(self, what: str, url: str, action: str) -> None:
        super().__init__(
            f"{what} is the platform's ({url}): {action} is not possible from here; "
            f"use the platform's own tools, or `orders simulate` with {what} 'simulated'",
            field=None,
            value=url,
        )


class RemoteMarketControls:
    """:class:`~order_adapters.simulated.controls.MarketControls` over a remote market."""

    def __init__(self, market: MarketData, url: str) -> None:
        self.port = market
        self.url = url

    def get_asset(self, symbol: Symbol) -> AssetDetails | None:
        return self.port.get_asset(symbol)

    def get_quote(self, symbol: Symbol) -> Quote | None:
        return self.port.get_quote(symbol)

    def get_quotes(self, symbols: Iterable[Symbol]) -> Mapping[Symbol, Quote]:
        return self.port.get_quotes(symbols)

    def is_market_open(self, symbol: Symbol) -> bool:
        return self.port.is_market_open(symbol)

    def get_trading_hours(self, symbol: Symbol) -> TradingHours:
        return self.port.get_trading_hours(symbol)

    def set_price(self, symbol: Symbol | str, price: Decimal | str) -> Quote:  # noqa: ARG002
        raise NotControllable("market data", self.url, "setting a price")

    def set_market_open(self, is_open: bool, symbol: Symbol | str | None = None) -> None:  # noqa: ARG002
        raise NotControllable("market data", self.url, "opening or closing a market")

    def listing(self, symbol: Symbol) -> tuple[AssetDetails, Quote, bool] | None:
        asset, quote = self.port.get_asset(symbol), self.port.get_quote(symbol)
        if asset is None or quote is None:
            return None
        return asset, quote, self.port.is_market_open(symbol)

    def assets(self) -> list[tuple[AssetDetails, Quote, bool]]:
        raise NotControllable(
            "market data", self.url, "listing every symbol (the service has no such call)"
        )


class RemoteLedgerControls:
    """:class:`~order_adapters.simulated.controls.LedgerControls` over the
    platform's balances and positions (either may still be simulated)."""

    def __init__(
        self,
        *,
        accounts: Accounts,
        balances: Balances,
        positions: Positions,
        holdings: Callable[[UUID], dict[Symbol, Decimal]],
        url: str,
    ) -> None:
        self.accounts = accounts
        self.balances = balances
        self.positions = positions
        self._holdings = holdings
        self.url = url

    def open_account(
        self,
        user_id: UUID,  # noqa: ARG002
        *,
        cash: Decimal | str | int = 0,  # noqa: ARG002
        positions: Mapping[Symbol | str, Decimal | str | int] | None = None,  # noqa: ARG002
        active: bool = True,  # noqa: ARG002
        if_missing: bool = False,
    ) -> bool:
        if if_missing:
            return False  # accounts are the platform's: it opens them, not a first order
        raise NotControllable("the balance service", self.url, "opening an account")

    def has_account(self, user_id: UUID) -> bool:
        return self.accounts.get_account(user_id) is not None

    def holdings(self, user_id: UUID) -> dict[Symbol, Decimal]:
        return self._holdings(user_id)

    def books(self) -> list[AccountBook]:
        raise NotControllable("the balance service", self.url, "auditing every account's books")


if TYPE_CHECKING:
    from order_adapters.simulated.controls import LedgerControls, MarketControls

    def _implements(
        market: RemoteMarketControls, ledger: RemoteLedgerControls
    ) -> tuple[MarketControls, LedgerControls]:
        return market, ledger
