"""The service's own stores in memory (orders, outbox, idempotency records), the
``memory://`` broker, clocks and id generators: standard library only,
thread-safe, and complete enough to run the whole order flow in one process or
to serve as a library user's test fakes. The stand-ins for the services it does
not own (market data, accounts, cash, positions) are in
:mod:`order_adapters.simulated`."""

from order_adapters.memory.broker import DeadLetter, InProcessBroker, MessageHandler
from order_adapters.memory.clock import ManualClock, RandomIds, SequentialIds, SystemClock
from order_adapters.memory.database import InMemoryDatabase
from order_adapters.memory.idempotency import InMemoryIdempotencyStore
from order_adapters.memory.outbox import InMemoryOutbox
from order_adapters.memory.unit_of_work import InMemoryUnitOfWork

__all__ = [
    "DeadLetter",
    "InMemoryDatabase",
    "InMemoryIdempotencyStore",
    "InMemoryOutbox",
    "InMemoryUnitOfWork",
    "InProcessBroker",
    "ManualClock",
    "MessageHandler",
    "RandomIds",
    "SequentialIds",
    "SystemClock",
]
