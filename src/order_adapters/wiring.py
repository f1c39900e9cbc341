"""What each technology's wiring module offers, by the role it plays.

The composition root picks a module by URL scheme and calls these functions;
a new technology adds a module with them and one line to the root's table.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import NamedTuple, Protocol

from order_adapters.runtime import SystemOfRecord
from order_adapters.settings import BrokerSettings, RedisSettings, Settings
from order_adapters.simulated.controls import LedgerControls, MarketControls
from order_core.policy import RetryPolicy
from order_core.ports import Clock, IdempotencyStore, MessagePublisher, UnitOfWorkFactory

__all__ = [
    "BrokerWiring",
    "DatabaseWiring",
    "GateWiring",
    "Platform",
    "PlatformWiring",
    "SimulatorWiring",
]


class DatabaseWiring(Protocol):
    """A system of record: check its URL, open it, migrate it."""

    def check(self, settings: Settings) -> str: ...
    def open_database(
        self, settings: Settings, url: str, resources: ExitStack
    ) -> tuple[SystemOfRecord, str]: ...
    def migrate(self, settings: Settings, url: str) -> str | None: ...


class GateWiring(Protocol):
    """An idempotency fast path in front of the database."""

    def check(self, settings: RedisSettings) -> None: ...
    def open_gate(
        self, settings: RedisSettings, resources: ExitStack
    ) -> tuple[IdempotencyStore, str]: ...


class BrokerWiring(Protocol):
    """Where the outbox relay publishes."""

    def open_broker(
        self,
        retry: RetryPolicy,
        clock: Clock,
        resources: ExitStack,
        settings: BrokerSettings | None = None,
    ) -> tuple[MessagePublisher, str]: ...


class SimulatorWiring(Protocol):
    """The simulated market data, accounts, cash and positions."""

    def check(self, settings: Settings) -> object: ...
    def open_simulator(
        self, settings: Settings, database: object, clock: Clock, resources: ExitStack
    ) -> tuple[MarketControls, LedgerControls, str]: ...


class Platform(NamedTuple):
    """What a platform wiring opened: the market and ledger (the ports the
    service reads, and their controls, which a remote platform refuses), and
    the units of work money moves in when it moves remotely."""

    market: MarketControls
    ledger: LedgerControls
    #: Wraps the database's units of work (None: they are used as they are).
    unit_of_work: UnitOfWorkFactory | None
    described: str


class PlatformWiring(Protocol):
    """Market data, accounts, cash and positions, some or all of them the
    platform's services (``grpc://``)."""

    def check(self, settings: Settings) -> object: ...
    def open_platform(
        self, settings: Settings, database: SystemOfRecord, clock: Clock, resources: ExitStack
    ) -> Platform: ...
