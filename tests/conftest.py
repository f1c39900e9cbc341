"""Shared fixtures: an in-memory order service with a market, a ledger and a
manual clock, wired the way the composition root wires the embedded default."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from order_adapters.memory import (
    InMemoryDatabase,
    InProcessBroker,
    ManualClock,
    SequentialIds,
)
from order_adapters.runners import InProcessProcessing
from order_adapters.simulated import InMemoryLedger, InMemoryMarketData
from order_core import Dependencies, OrderPolicy, OrderService, RetryPolicy, SubmitOrder, Symbol
from order_core.records import AssetDetails
from tests.services import need

ALICE = UUID("00000000-0000-4000-8000-00000000a11c")
BOB = UUID("00000000-0000-4000-8000-000000000b0b")
PRICES = {"AAPL": Decimal("150.00"), "MSFT": Decimal("400.00"), "TSLA": Decimal("200.00")}


@dataclass
class World:
    """Everything a use-case test needs: the in-memory adapters, or a SQL
    database (``SqlDatabase``) as the system of record."""

    clock: ManualClock
    database: Any
    market: InMemoryMarketData
    ledger: InMemoryLedger
    service: OrderService
    broker: InProcessBroker
    runtime: InProcessProcessing

    def submit(self, **fields: object) -> UUID:
        """Submit with sensible defaults (ALICE buys 1 AAPL at market)."""
        values: dict[str, object] = {
            "user_id": ALICE,
            "symbol": "AAPL",
            "order_type": "MARKET",
            "order_side": "BUY",
            "quantity": "1",
        }
        values.update(fields)
        return self.service.submit(SubmitOrder(**values)).order_id  # type: ignore[arg-type]

    def order(self, order_id: UUID, user: UUID = ALICE):  # type: ignore[no-untyped-def]
        return self.service.get_details(order_id, user)


def build_world(policy: OrderPolicy | None = None, *, database: Any = None) -> World:
    """A world on ``database`` (an ``InMemoryDatabase`` when None); any
    database with ``unit_of_work()`` and an ``outbox`` will do."""
    clock = ManualClock()
    database = InMemoryDatabase() if database is None else database
    market = InMemoryMarketData(clock)
    for name, price in PRICES.items():
        market.list_asset(AssetDetails(Symbol(name), f"{name} Inc.", "equity"), price)
    ledger = _ledger_for(database)
    ledger.open_account(ALICE, cash="100000", positions={"AAPL": 50, "MSFT": 10})
    ledger.open_account(BOB, cash="50000", positions={"TSLA": 20})
    fast_retries = RetryPolicy(delays=(timedelta(milliseconds=5),) * 4)
    service = OrderService(
        Dependencies(
            unit_of_work=database,
            market_data=market,
            accounts=ledger.accounts,
            clock=clock,
            ids=SequentialIds(),
            policy=policy or OrderPolicy(retry=fast_retries),
        )
    )
    broker = InProcessBroker(clock)
    runtime = InProcessProcessing(service, database.outbox, broker, keep_positions=True)
    return World(clock, database, market, ledger, service, broker, runtime)


def _ledger_for(database: Any) -> Any:
    """The simulated ledger kept where ``database`` keeps the orders, attached
    so that money moves in the orders' own transactions."""
    if isinstance(database, InMemoryDatabase):
        ledger: Any = InMemoryLedger()
        database.attach_ledger(ledger)
        return ledger
    from order_adapters.simulated.sql_ledger import SqlLedger  # noqa: PLC0415  # the sql extra

    ledger = SqlLedger(database)
    database.attach_ledger(ledger.within)
    return ledger


@pytest.fixture
def world() -> World:
    return build_world()


# -- SQL databases for the adapter tests ------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this run's own, migrated to head; dropped afterwards."""
    need("PostgreSQL")
    # Imported here: the SQL extra is needed only by the tests that use it.
    from tests.sql_databases import temporary_postgres_database  # noqa: PLC0415

    with temporary_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied by each test that needs a database."""
    from order_adapters.sql import upgrade  # noqa: PLC0415  # as above

    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path
