"""Simulated market data held in memory: assets, prices you set, markets you open and close."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from order_core.ports import Clock
from order_core.records import AssetDetails, Quote, TradingHours
from order_core.values import Price, Symbol

__all__ = ["InMemoryMarketData"]


class InMemoryMarketData:
    """A :class:`~order_core.ports.MarketData` whose prices move only when
    :meth:`set_price` is called. Thread-safe."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._assets: dict[Symbol, AssetDetails] = {}
        self._quotes: dict[Symbol, Quote] = {}
        self._closed: set[Symbol] = set()

    def list_asset(self, asset: AssetDetails, price: Decimal | str | int) -> Quote:
        """Add (or replace) an asset with its current price."""
        with self._lock:
            self._assets[asset.symbol] = asset
        return self.set_price(asset.symbol, price)

    def set_price(self, symbol: Symbol | str, price: Decimal | str | int) -> Quote:
        """Move the price of a listed symbol; returns the new quote."""
        key = Symbol.parse(symbol)
        value = Price.parse(price).value  # InvalidInput unless a positive number
        quote = Quote(symbol=key, price=value, timestamp=self._clock.now())
        with self._lock:
            if key not in self._assets:
                raise KeyError(f"symbol {key} is not listed")
            self._quotes[key] = quote
        return quote

    def set_market_open(self, is_open: bool, symbol: Symbol | str | None = None) -> None:
        """Open or close one symbol's market, or every market when ``symbol`` is None."""
        with self._lock:
            targets = set(self._assets) if symbol is None else {Symbol.parse(symbol)}
            if is_open:
                self._closed -= targets
            else:
                self._closed |= targets

    def assets(self) -> list[tuple[AssetDetails, Quote, bool]]:
        """Every listed asset with its current quote and whether its market is open."""
        with self._lock:
            return [
                (asset, self._quotes[symbol], symbol not in self._closed)
                for symbol, asset in sorted(self._assets.items())
            ]

    def listing(self, symbol: Symbol) -> tuple[AssetDetails, Quote, bool] | None:
        with self._lock:
            asset, quote = self._assets.get(symbol), self._quotes.get(symbol)
            if asset is None or quote is None:
                return None
            return asset, quote, symbol not in self._closed

    # -- MarketData -------------------------------------------------------------------

    def get_asset(self, symbol: Symbol) -> AssetDetails | None:
        return self._assets.get(symbol)

    def get_quote(self, symbol: Symbol) -> Quote | None:
        return self._quotes.get(symbol)

    def get_quotes(self, symbols: Iterable[Symbol]) -> Mapping[Symbol, Quote]:
        quotes = self._quotes
        return {symbol: quotes[symbol] for symbol in symbols if symbol in quotes}

    def is_market_open(self, symbol: Symbol) -> bool:
        return symbol not in self._closed

    def get_trading_hours(self, symbol: Symbol) -> TradingHours:
        return TradingHours(symbol=symbol, is_open=self.is_market_open(symbol))


if TYPE_CHECKING:
    from order_core.ports import MarketData

    def _implements(market: InMemoryMarketData) -> MarketData:
        return market
