"""Wiring of the platform's services at ``grpc://host:port`` URLs
(``ORDERS_MARKET_DATA_URL``, ``ORDERS_BALANCE_URL``, ``ORDERS_POSITIONS_URL``);
a part still ``simulated`` comes from :mod:`order_adapters.simulated.wiring`."""

from __future__ import annotations

from contextlib import ExitStack
from urllib.parse import urlsplit

import grpc
from prometheus_client import REGISTRY

from order_adapters.platform.assets import TradingHoursTable
from order_adapters.platform.controls import RemoteLedgerControls, RemoteMarketControls
from order_adapters.platform.resilience import Guard, GuardCollector, GuardSettings
from order_adapters.runtime import SystemOfRecord
from order_adapters.settings import (
    BalanceSettings,
    MarketDataSettings,
    PositionsSettings,
    Settings,
    SettingsError,
)
from order_adapters.simulated import wiring as simulated
from order_adapters.simulated.controls import LedgerControls, MarketControls
from order_adapters.urls import scheme_of
from order_adapters.wiring import Platform
from order_core.ports import Clock

__all__ = ["check", "open_platform", "target_of"]

_SETTINGS = ("market_data_url", "balance_url", "positions_url")


def target_of(url: str, setting: str) -> str:
    """``host:port`` of ``grpc://host:port``; anything else is a SettingsError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        port = None
        parts = None
    if parts is None or not parts.hostname or port is None or parts.path not in {"", "/"}:
        raise SettingsError(
            f"{url!r} is not a service address: use grpc://host:port", setting=setting
        )
    if parts.username or parts.password:
        raise SettingsError(
            "must not carry a user or password: use grpc://host:port", setting=setting
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}"


def _remote(url: str) -> bool:
    return scheme_of(url) == "grpc"


def check(settings: Settings) -> None:
    """Every ``grpc://`` URL well-formed; the simulated parts' own checks."""
    urls = (settings.market_data.url, settings.balance.url, settings.positions.url)
    for setting, url in zip(_SETTINGS, urls, strict=True):
        if _remote(url):
            target_of(url, setting)
    if not all(_remote(url) for url in urls):
        simulated.check(settings)


def _guard(name: str, settings: MarketDataSettings | BalanceSettings | PositionsSettings) -> Guard:
    return Guard(
        name,
        GuardSettings(
            deadline=settings.deadline,
            attempts=settings.retry_attempts,
            backoff=settings.retry_backoff,
            breaker_failures=settings.breaker_failures,
            breaker_reset=settings.breaker_reset,
        ),
    )


def open_platform(
    settings: Settings, database: SystemOfRecord, clock: Clock, resources: ExitStack
) -> Platform:
    """Clients for the remote services, the simulator for the rest. Channels
    connect lazily: a peer down at start is an UNAVAILABLE call later, not a
    failed start."""
    # The generated stubs load only now: checking settings registers no
    # hub_investments messages in the process's descriptor pool.
    from order_adapters.platform.accounts import (  # noqa: PLC0415
        BALANCE_SERVICE,
        POSITION_SERVICE,
        GrpcBalances,
        GrpcPositions,
        PlatformAccounts,
        unit_of_work_factory,
    )
    from order_adapters.platform.market_data import SERVICE as MARKET_SERVICE  # noqa: PLC0415
    from order_adapters.platform.market_data import GrpcMarketData  # noqa: PLC0415

    check(settings)
    channels: dict[str, grpc.Channel] = {}

    def channel(url: str, setting: str) -> grpc.Channel:
        target = target_of(url, setting)
        if target not in channels:
            opened = channels[target] = grpc.insecure_channel(target)
            resources.callback(opened.close)
        return channels[target]

    md, bal, pos = settings.market_data, settings.balance, settings.positions
    # The breakers' states and the calls made, on the process's /metrics.
    guards = GuardCollector()
    REGISTRY.register(guards)
    resources.callback(REGISTRY.unregister, guards)
    sim_market: MarketControls | None = None
    sim_ledger: LedgerControls | None = None

    def local() -> LedgerControls:
        assert sim_ledger is not None  # opened below whenever a part is simulated
        return sim_ledger

    if not (_remote(md.url) and _remote(bal.url) and _remote(pos.url)):
        sim_market, sim_ledger, _ = simulated.open_simulator(settings, database, clock, resources)
    described: list[str] = []
    market: MarketControls
    if _remote(md.url):
        market_port = GrpcMarketData(
            channel(md.url, "market_data_url"),
            guards.add(_guard(MARKET_SERVICE, md)),
            clock=clock,
            hours=TradingHoursTable(md.trading_hours, md.timezone),
            cache_ttl=md.cache_ttl,
        )
        market = RemoteMarketControls(market_port, md.url)
        described.append(f"market data {md.url}")
    else:
        assert sim_market is not None
        market = sim_market
        described.append("market data simulated")
    balances = positions = None
    if _remote(bal.url):
        balances = GrpcBalances(
            channel(bal.url, "balance_url"), guards.add(_guard(BALANCE_SERVICE, bal))
        )
        described.append(f"balances {bal.url}")
    else:
        described.append("balances simulated")
    if _remote(pos.url):
        positions = GrpcPositions(
            channel(pos.url, "positions_url"), guards.add(_guard(POSITION_SERVICE, pos))
        )
        described.append(f"positions {pos.url}")
    else:
        described.append("positions simulated")
    if balances is None and positions is None:
        return Platform(market, local(), None, ", ".join(described))
    ledger = RemoteLedgerControls(
        accounts=PlatformAccounts(balances) if balances is not None else local().accounts,
        balances=balances if balances is not None else local().balances,
        positions=positions if positions is not None else local().positions,
        holdings=positions.holdings if positions is not None else local().holdings,
        url=bal.url if balances is not None else pos.url,
    )
    factory = unit_of_work_factory(database.unit_of_work, balances, positions)
    return Platform(market, ledger, factory, ", ".join(described))
