"""The service the bench scripts drive: an in-memory market and the simulated
ledger beside the database under test, with well-funded users."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from order_adapters.memory import InMemoryDatabase, RandomIds, SystemClock
from order_adapters.simulated import InMemoryLedger, InMemoryMarketData
from order_core import Dependencies, OrderService, Symbol
from order_core.ports import UnitOfWorkFactory
from order_core.records import AssetDetails


def trading_service(
    unit_of_work: UnitOfWorkFactory, *, symbols: list[str], users: int, clock: SystemClock
) -> tuple[OrderService, Any, list[UUID]]:
    """The service, its ledger, and ``users`` accounts holding every symbol."""
    ids = RandomIds()
    market = InMemoryMarketData(clock)
    for index, name in enumerate(symbols):
        market.list_asset(AssetDetails(Symbol(name), name, "equity"), 100 + index)
    ledger = _ledger_for(unit_of_work)
    accounts = [ids.new_id() for _ in range(users)]
    for user in accounts:
        ledger.open_account(user, cash=10_000_000, positions=dict.fromkeys(symbols, 100000))
    service = OrderService(
        Dependencies(
            unit_of_work=unit_of_work,
            market_data=market,
            accounts=ledger.accounts,
            clock=clock,
            ids=ids,
        )
    )
    return service, ledger, accounts


def _ledger_for(database: object) -> Any:
    """The simulated ledger beside ``database``, attached so that money moves
    in the orders' own transactions (as the composition root wires it)."""
    if isinstance(database, InMemoryDatabase):
        ledger = InMemoryLedger()
        database.attach_ledger(ledger)
        return ledger
    from order_adapters.simulated.sql_ledger import SqlLedger  # noqa: PLC0415  # the sql extra
    from order_adapters.sql import SqlDatabase  # noqa: PLC0415

    assert isinstance(database, SqlDatabase)
    sql_ledger = SqlLedger(database)
    database.attach_ledger(sql_ledger.within)
    return sql_ledger
