"""Embed the order service in a Python process, with the in-memory adapters.

Run it: ``python docs/examples/embed_in_memory.py``. A service of your own
swaps in other adapters (SQL, Redis, its own market data client) for the
in-memory ones; the use cases do not change.
"""

from __future__ import annotations

from uuid import UUID

from order_adapters.memory import (
    InMemoryDatabase,
    InProcessBroker,
    RandomIds,
    SystemClock,
)
from order_adapters.runners import InProcessProcessing
from order_adapters.simulated import InMemoryLedger, InMemoryMarketData
from order_core import (
    Dependencies,
    InsufficientBalance,
    OrderService,
    SubmitOrder,
    Symbol,
)
from order_core.records import AssetDetails

ALICE = UUID("8c6c1ba4-6a2b-4c8e-9a3e-2f2d2a6c0001")

# 1. Adapters: where orders are stored, prices come from and money is kept.
clock = SystemClock()
database = InMemoryDatabase()
market = InMemoryMarketData(clock)
market.list_asset(AssetDetails(Symbol("AAPL"), "Apple Inc.", "equity"), "150.00")
ledger = InMemoryLedger()
ledger.open_account(ALICE, cash="10000", positions={"AAPL": 5})
database.attach_ledger(ledger)  # cash and shares move in the orders' own commits

# 2. The service, built once at the entry point from its ports.
service = OrderService(
    Dependencies(
        unit_of_work=database,
        market_data=market,
        accounts=ledger.accounts,
        clock=clock,
        ids=RandomIds(),
    )
)
# 3. Processing in-process: relay the outbox to consumers right away.
processing = InProcessProcessing(
    service, database.outbox, InProcessBroker(clock), keep_positions=True
)

receipt = service.submit(
    SubmitOrder(
        user_id=ALICE,
        symbol="AAPL",
        order_type="LIMIT",
        order_side="BUY",
        quantity="10",
        price="149.50",
        idempotency_key="example-1",
    )
)
print("submitted", receipt.order_id, receipt.status, "estimated value", receipt.estimated_value)

processing.pump()  # the limit is below the market: the order rests
print("status:", service.get_status(receipt.order_id, ALICE).status_message)

market.set_price("AAPL", "149.00")
print("executed by the sweep:", service.sweep().executed == (receipt.order_id,))
processing.pump()  # deliver the execution to the position keeper
details = service.get_details(receipt.order_id, ALICE)
print("execution price", details.execution_price, "value", details.execution_value)
print(
    "cash",
    ledger.balances.get_balance(ALICE).cash,
    "AAPL held",
    ledger.positions.get_position(ALICE, Symbol("AAPL")).quantity,
)

# The same key and request again: the original answer, no second order.
again = service.submit(
    SubmitOrder(
        user_id=ALICE,
        symbol="AAPL",
        order_type="LIMIT",
        order_side="BUY",
        quantity="10",
        price="149.50",
        idempotency_key="example-1",
    )
)
print("replayed:", again.replayed, again.order_id == receipt.order_id)

try:
    service.submit(
        SubmitOrder(
            user_id=ALICE, symbol="AAPL", order_type="MARKET", order_side="BUY", quantity="500"
        )
    )
except InsufficientBalance as rejection:
    print("rejected:", rejection.to_dict())
