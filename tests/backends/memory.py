"""The in-memory backend for the contract suites."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from order_adapters.memory import InMemoryDatabase, InMemoryIdempotencyStore
from order_core.ports import IdempotencyStore
from tests.backends.store import LedgerStore, Store


@contextmanager
def memory_store() -> Iterator[Store]:
    database = InMemoryDatabase()
    yield Store(unit_of_work=database, outbox=database.outbox, idempotency=database.idempotency)


@contextmanager
def memory_idempotency() -> Iterator[IdempotencyStore]:
    yield InMemoryIdempotencyStore()


STORES = {"memory": memory_store}
IDEMPOTENCY_STORES = {"memory": memory_idempotency}


@contextmanager
def memory_ledger() -> Iterator[LedgerStore]:
    from order_adapters.simulated import InMemoryLedger  # noqa: PLC0415

    database = InMemoryDatabase()
    ledger = InMemoryLedger()
    database.attach_ledger(ledger)
    yield LedgerStore(unit_of_work=database, controls=ledger)


LEDGERS = {"memory": memory_ledger}
