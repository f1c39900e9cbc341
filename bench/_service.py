"""The service the bench scripts drive: in-memory market and ledger with
well-funded users, over the unit of work under test."""

from __future__ import annotations

from uuid import UUID

from order_adapters.memory import RandomIds, SystemClock
from order_adapters.simulated import InMemoryLedger, InMemoryMarketData
from order_core import Dependencies, OrderService, Symbol
from order_core.ports import UnitOfWorkFactory
from order_core.records import AssetDetails


def trading_service(
    unit_of_work: UnitOfWorkFactory, *, symbols: list[str], users: int, clock: SystemClock
) -> tuple[OrderService, InMemoryLedger, list[UUID]]:
    """The service, its ledger, and ``users`` accounts holding every symbol."""
    ids = RandomIds()
    market = InMemoryMarketData(clock)
    for index, name in enumerate(symbols):
        market.list_asset(AssetDetails(Symbol(name), name, "equity"), 100 + index)
    ledger = InMemoryLedger()
    accounts = [ids.new_id() for _ in range(users)]
    for user in accounts:
        ledger.open_account(user, cash=10_000_000, positions=dict.fromkeys(symbols, 100000))
    service = OrderService(
        Dependencies(
            unit_of_work=unit_of_work,
            market_data=market,
            accounts=ledger.accounts,
            balances=ledger.balances,
            positions=ledger.positions,
            clock=clock,
            ids=ids,
        )
    )
    return service, ledger, accounts
