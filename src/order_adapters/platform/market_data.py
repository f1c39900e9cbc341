""":class:`~order_core.ports.MarketData` over the platform's MarketDataService.

What is called when: an asset's properties (:meth:`GrpcMarketData.get_asset`)
come from one ``GetMarketData`` (its category) and, while the peer serves it,
one ``GetAssetDetails`` (its name), then stay in a TTL cache, as do the
trading hours they imply; a quote is always a fresh ``GetMarketData`` (an
order never executes at a cached price); a sweep's quotes are one
``GetBatchMarketData``. NOT_FOUND is an unknown symbol (None), not an outage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

import grpc
from cachetools import TTLCache

from order_adapters.grpc.generated import market_data_service_pb2 as pb
from order_adapters.grpc.generated import market_data_service_pb2_grpc as pb_grpc
from order_adapters.platform.assets import (
    Category,
    TradingHoursTable,
    category_of,
    price_on_step,
)
from order_adapters.platform.resilience import BadAnswer, Guard, Refused
from order_core.errors import DependencyUnavailable
from order_core.ports import Clock
from order_core.records import AssetDetails, Quote, TradingHours
from order_core.values import Symbol

__all__ = ["SERVICE", "GrpcMarketData"]

_log = logging.getLogger("order_adapters.platform")
SERVICE = "market data service"
#: How long an open-flag answer may also serve as the price asked for next
#: (seconds): the two belong to one decision, never to a later one.
_ONE_DECISION = 0.25


class _Listing(NamedTuple):
    """What is cached of one symbol: never its price."""

    asset: AssetDetails
    category: Category
    #: The peer says whether the market is open (the simulator does): asked
    #: fresh each time, like a price.
    live_open_flag: bool


class GrpcMarketData:
    """Market data from ``MarketDataService`` at ``channel``. Thread-safe."""

    def __init__(
        self,
        channel: grpc.Channel,
        guard: Guard,
        *,
        clock: Clock,
        hours: TradingHoursTable,
        cache_ttl: float,
    ) -> None:
        self._stub = pb_grpc.MarketDataServiceStub(channel)
        self.guard = guard
        self._clock = clock
        self._hours = hours
        self._cache: TTLCache[str, _Listing] = TTLCache(maxsize=4096, ttl=cache_ttl)
        self._lock = threading.Lock()
        #: Per thread: the last open-flag answer, for the quote asked next.
        self._fresh = threading.local()
        #: None until asked; False once the peer answered UNIMPLEMENTED.
        self._details_served: bool | None = None
        self.cache_hits = 0
        self.cache_misses = 0

    # -- MarketData -------------------------------------------------------------------

    def get_asset(self, symbol: Symbol) -> AssetDetails | None:
        listing = self._listing(symbol)
        return None if listing is None else listing.asset

    def get_quote(self, symbol: Symbol) -> Quote | None:
        data = self._just_read(symbol) or self._market_data(symbol)
        if data is None:
            return None
        return self._quote(symbol, data)

    def _just_read(self, symbol: Symbol) -> pb.MarketData | None:
        """The answer this thread's open-flag check just had for ``symbol``,
        once: a decision (is it open, at what price) is made on one answer,
        not two calls (the core asks for both, one after the other)."""
        last = getattr(self._fresh, "answer", None)
        self._fresh.answer = None
        if last is None:
            return None
        asked, data, at = last
        return data if asked == symbol and time.monotonic() - at < _ONE_DECISION else None

    def get_quotes(self, symbols: Iterable[Symbol]) -> Mapping[Symbol, Quote]:
        wanted = {Symbol(s) for s in symbols}
        if not wanted:
            return {}
        request = pb.GetBatchMarketDataRequest(symbols=sorted(wanted))
        stub = self._stub
        try:
            response = self.guard.call(
                "GetBatchMarketData",
                lambda timeout: stub.GetBatchMarketData(request, timeout=timeout),
            )
        except Refused as refused:
            raise DependencyUnavailable(SERVICE, str(refused)) from refused
        quotes: dict[Symbol, Quote] = {}
        for data in response.market_data:
            symbol = Symbol(data.symbol.strip().upper())
            if symbol not in wanted:
                continue
            try:
                quotes[symbol] = self._quote(symbol, data)
            except BadAnswer as bad:  # one bad entry does not hold back the others
                _log.warning("%s: %s", SERVICE, bad.message)
        return quotes

    def is_market_open(self, symbol: Symbol) -> bool:
        return self.get_trading_hours(symbol).is_open

    def get_trading_hours(self, symbol: Symbol) -> TradingHours:
        listing = self._listing(symbol)
        if listing is None:
            return TradingHours(symbol=symbol, is_open=False)
        if listing.live_open_flag:
            data = self._market_data(symbol)
            if data is not None and data.HasField("market_open"):
                self._fresh.answer = (symbol, data, time.monotonic())
                return TradingHours(symbol=symbol, is_open=data.market_open)
        if not listing.category.has_hours:
            return TradingHours(symbol=symbol, is_open=True)
        is_open, opens, closes = self._hours.session(self._clock.now())
        return TradingHours(symbol=symbol, is_open=is_open, opens_at=opens, closes_at=closes)

    # -- the calls ------------------------------------------------------------------------

    def _listing(self, symbol: Symbol) -> _Listing | None:
        key = str.__str__(symbol)
        with self._lock:
            listing = self._cache.get(key)
            if listing is not None:
                self.cache_hits += 1
                return listing
            self.cache_misses += 1
        data = self._market_data(symbol)
        if data is None:
            return None  # not cached: a symbol listed later is found at once
        category = category_of(data.category)
        name = self._company_name(symbol) or data.company_name or key
        asset = AssetDetails(
            symbol=symbol,
            name=name,
            category=category.name,
            tradeable=data.current_price > 0,  # the monolith's rule; NaN is not > 0
            tick_size=category.step,
        )
        listing = _Listing(asset, category, data.HasField("market_open"))
        with self._lock:
            self._cache[key] = listing
        return listing

    def _market_data(self, symbol: Symbol) -> pb.MarketData | None:
        request = pb.GetMarketDataRequest(symbol=symbol)
        stub = self._stub
        try:
            response = self.guard.call(
                "GetMarketData", lambda timeout: stub.GetMarketData(request, timeout=timeout)
            )
        except Refused as refused:
            if refused.code is grpc.StatusCode.NOT_FOUND:
                return None
            # The symbol sent is well-formed: any other refusal is the peer's fault.
            raise DependencyUnavailable(SERVICE, str(refused)) from refused
        data = response.market_data
        if data.symbol.strip().upper() != symbol:
            raise BadAnswer(SERVICE, f"asked for {symbol}, got symbol {data.symbol!r}")
        return data

    def _company_name(self, symbol: Symbol) -> str | None:
        """``GetAssetDetails``'s name while the peer serves it; never required
        (the deployed service answers UNIMPLEMENTED, then it is not asked again)."""
        if self._details_served is False:
            return None
        request = pb.GetAssetDetailsRequest(symbol=symbol)
        stub = self._stub
        try:
            response = self.guard.call(
                "GetAssetDetails", lambda timeout: stub.GetAssetDetails(request, timeout=timeout)
            )
        except Refused as refused:
            if refused.code is grpc.StatusCode.UNIMPLEMENTED:
                self._details_served = False
            return None
        except DependencyUnavailable:
            return None  # the name can wait; the asset's category is known
        self._details_served = True
        return response.asset.company_name or None

    def _quote(self, symbol: Symbol, data: pb.MarketData) -> Quote:
        step = category_of(data.category).step
        price = price_on_step(data.current_price, step, service=SERVICE, symbol=symbol)
        return Quote(symbol=symbol, price=price, timestamp=self._timestamp(data.last_updated))

    def _timestamp(self, text: str) -> datetime:
        """``last_updated`` when it is a time, else now (the deployed service
        leaves it empty)."""
        if text:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                return self._clock.now()
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        return self._clock.now()


if TYPE_CHECKING:
    from order_core.ports import MarketData

    def _implements(market: GrpcMarketData) -> MarketData:
        return market
