"""What :func:`~order_adapters.bootstrap.bootstrap` wires: the service and the
adapters behind it, and everything to close when done (newest first)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Protocol, Self

from order_adapters.settings import Settings
from order_adapters.simulated.controls import LedgerControls, MarketControls
from order_core.ports import MessagePublisher, Outbox, UnitOfWork
from order_core.service import OrderService

__all__ = ["Runtime", "SystemOfRecord"]


class SystemOfRecord(Protocol):
    """Orders, outbox and idempotency records: an in-memory or a SQL database."""

    def unit_of_work(self) -> UnitOfWork: ...

    @property
    def outbox(self) -> Outbox: ...


@dataclass(frozen=True, slots=True)
class Runtime:
    """A wired service. Nothing here runs by itself: a runner
    (:mod:`order_adapters.runners`) drives processing. Close it (or leave a
    ``with`` block) to release connections, newest first."""

    settings: Settings
    service: OrderService
    database: SystemOfRecord
    #: The simulated market and ledger (prices, accounts, cash, positions).
    market: MarketControls
    ledger: LedgerControls
    #: Where the outbox relay hands messages (the broker).
    publisher: MessagePublisher
    #: A readable description of each adapter (``orders info``).
    wiring: Mapping[str, str]
    resources: ExitStack

    def close(self) -> None:
        """Close everything opened for this runtime; every close runs even if one fails."""
        self.resources.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
