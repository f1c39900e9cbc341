"""Wiring of ``memory://``: the in-memory system of record and broker."""

from __future__ import annotations

from contextlib import ExitStack

from order_adapters.memory.broker import InProcessBroker
from order_adapters.memory.database import InMemoryDatabase
from order_adapters.settings import BrokerSettings, Settings
from order_adapters.topology import Topology
from order_core.policy import RetryPolicy
from order_core.ports import Clock

__all__ = ["check", "migrate", "open_broker", "open_database"]


def check(settings: Settings) -> str:  # noqa: ARG001  # every memory:// URL means the same
    return "memory://"


def open_database(
    settings: Settings,  # noqa: ARG001  # nothing to configure
    url: str,  # noqa: ARG001
    resources: ExitStack,  # noqa: ARG001  # nothing to close
) -> tuple[InMemoryDatabase, str]:
    return InMemoryDatabase(), "in memory (nothing is kept after exit)"


def migrate(settings: Settings, url: str) -> None:  # noqa: ARG001
    """Nothing to migrate: ``memory://`` has no schema."""
    return


def open_broker(
    retry: RetryPolicy,
    clock: Clock,
    resources: ExitStack,  # noqa: ARG001
    settings: BrokerSettings | None = None,  # noqa: ARG001  # nothing to configure
) -> tuple[InProcessBroker, str]:
    broker = InProcessBroker(clock, Topology.build(retry))
    return broker, "memory:// (processed in-process after each commit)"
