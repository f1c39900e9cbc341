"""Simulated market data kept in the database, so a price moved by one
``orders market set`` is the price the next invocation sees. Symbols and
starting prices come from :mod:`order_adapters.simulated.listing`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from order_adapters.simulated.listing import Listing
from order_adapters.simulated.store import SimStore
from order_adapters.simulated.tables import sim_assets
from order_adapters.sql import SqlDatabase, dialect_insert
from order_core.ports import Clock
from order_core.records import AssetDetails, Quote, TradingHours
from order_core.values import Price, Symbol

__all__ = ["SqlMarketData"]

_s = sim_assets.c


class SqlMarketData:
    """:class:`~order_core.ports.MarketData` on the ``sim_assets`` table."""

    def __init__(self, database: SqlDatabase, clock: Clock) -> None:
        self._store = SimStore(database)
        self._clock = clock
        d, c = self._store.dialect, self._store.compile
        self._d = d
        columns = sa.select(
            _s.symbol, _s.name, _s.category, _s.price, _s.tick_size, _s.market_open, _s.updated_at
        )
        self._one = c(columns.where(_s.symbol == sa.bindparam("symbol")))
        self._all = c(columns.order_by(_s.symbol))
        self._count = c(sa.select(sa.func.count()).select_from(sim_assets))
        self._set_price = c(
            sim_assets.update()
            .where(_s.symbol == sa.bindparam("symbol"))
            .values(price=sa.bindparam("price"), updated_at=sa.bindparam("at"))
        )
        self._set_open = c(sim_assets.update().values(market_open=sa.bindparam("open")))
        self._set_open_one = c(
            sim_assets.update()
            .where(_s.symbol == sa.bindparam("symbol"))
            .values(market_open=sa.bindparam("open"))
        )
        insert = dialect_insert(d, sim_assets).values(
            symbol=sa.bindparam("symbol"),
            name=sa.bindparam("name"),
            category=sa.bindparam("category"),
            price=sa.bindparam("price"),
            tick_size=sa.bindparam("tick_size"),
            market_open=sa.bindparam("open"),
            updated_at=sa.bindparam("at"),
        )
        self._upsert = c(
            insert.on_conflict_do_update(
                index_elements=[_s.symbol],
                set_={
                    "name": insert.excluded.name,
                    "category": insert.excluded.category,
                    "price": insert.excluded.price,
                    "updated_at": insert.excluded.updated_at,
                },
            )
        )

    # -- the simulation's controls ----------------------------------------------------

    def is_empty(self) -> bool:
        return int(self._store.read(self._count, {})[0][0]) == 0

    def list_assets(self, listing: Listing) -> None:
        """Add or replace assets with their prices (a new or re-listed one opens)."""
        now = self._d.time(self._clock.now())
        with self._store.transaction() as run:
            for symbol, (name, category, price) in listing.items():
                run(
                    self._upsert,
                    {
                        "symbol": symbol,
                        "name": name,
                        "category": category,
                        "price": self._d.money(price),
                        "tick_size": None,
                        "open": True,
                        "at": now,
                    },
                )

    def set_price(self, symbol: Symbol | str, price: Decimal | str) -> Quote:
        """Move a listed symbol's price. Raises KeyError for an unknown symbol and
        :class:`InvalidInput` for a price that is not a positive number."""
        key = Symbol.parse(symbol)
        value = Price.parse(price).value  # InvalidInput unless a positive number
        now = self._clock.now()
        with self._store.transaction() as run:
            changed = run(
                self._set_price,
                {"symbol": key.value, "price": self._d.money(value), "at": self._d.time(now)},
            ).rowcount
        if changed != 1:
            raise KeyError(f"symbol {key} is not listed")
        return Quote(symbol=key, price=value, timestamp=now)

    def set_market_open(self, is_open: bool, symbol: Symbol | str | None = None) -> None:
        with self._store.transaction() as run:
            if symbol is None:
                run(self._set_open, {"open": is_open})
            else:
                run(self._set_open_one, {"symbol": Symbol.parse(symbol).value, "open": is_open})

    def assets(self) -> list[tuple[AssetDetails, Quote, bool]]:
        """Every listed asset with its current quote and whether its market is open."""
        return [self._row(row) for row in self._store.read(self._all, {})]

    def listing(self, symbol: Symbol) -> tuple[AssetDetails, Quote, bool] | None:
        return self._find(symbol)

    # -- MarketData ----------------------------------------------------------------------

    def get_asset(self, symbol: Symbol) -> AssetDetails | None:
        found = self._find(symbol)
        return None if found is None else found[0]

    def get_quote(self, symbol: Symbol) -> Quote | None:
        found = self._find(symbol)
        return None if found is None else found[1]

    def get_quotes(self, symbols: Iterable[Symbol]) -> Mapping[Symbol, Quote]:
        wanted = set(symbols)
        return {quote.symbol: quote for _, quote, _ in self.assets() if quote.symbol in wanted}

    def is_market_open(self, symbol: Symbol) -> bool:
        found = self._find(symbol)
        return found is not None and found[2]

    def get_trading_hours(self, symbol: Symbol) -> TradingHours:
        return TradingHours(symbol=symbol, is_open=self.is_market_open(symbol))

    def _find(self, symbol: Symbol) -> tuple[AssetDetails, Quote, bool] | None:
        rows = self._store.read(self._one, {"symbol": symbol.value})
        return self._row(rows[0]) if rows else None

    def _row(self, row: Any) -> tuple[AssetDetails, Quote, bool]:
        symbol = Symbol(row[0])
        tick = self._d.money_from(row[4])
        price = self._d.money_from(row[3])
        assert price is not None
        at = self._d.time_from(row[6]) or datetime.now(UTC)
        return (
            AssetDetails(symbol=symbol, name=row[1], category=row[2], tick_size=tick),
            Quote(symbol=symbol, price=price, timestamp=at),
            bool(row[5]),
        )


if TYPE_CHECKING:
    from order_core.ports import MarketData

    def _implements(market: SqlMarketData) -> MarketData:
        return market
