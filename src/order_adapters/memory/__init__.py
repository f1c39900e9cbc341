"""In-memory adapters for every port of ``order_core``: standard library only,
thread-safe, and complete enough to run the whole order flow in one process or
to serve as a library user's test fakes."""

from order_adapters.memory.broker import DeadLetter, InProcessBroker, MessageHandler
from order_adapters.memory.clock import ManualClock, RandomIds, SequentialIds, SystemClock
from order_adapters.memory.database import InMemoryDatabase, InMemoryOutbox, InMemoryUnitOfWork
from order_adapters.memory.idempotency import InMemoryIdempotencyStore
from order_adapters.memory.ledger import (
    InMemoryAccounts,
    InMemoryBalances,
    InMemoryLedger,
    InMemoryPositions,
)
from order_adapters.memory.market import InMemoryMarketData
from order_adapters.memory.runtime import InProcessRuntime

__all__ = [
    "DeadLetter",
    "InMemoryAccounts",
    "InMemoryBalances",
    "InMemoryDatabase",
    "InMemoryIdempotencyStore",
    "InMemoryLedger",
    "InMemoryMarketData",
    "InMemoryOutbox",
    "InMemoryPositions",
    "InMemoryUnitOfWork",
    "InProcessBroker",
    "InProcessRuntime",
    "ManualClock",
    "MessageHandler",
    "RandomIds",
    "SequentialIds",
    "SystemClock",
]
