"""The in-memory backend for the contract suites."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from order_adapters.memory import InMemoryDatabase, InMemoryIdempotencyStore
from order_core.ports import IdempotencyStore
from tests.backends.store import Store


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
def memory_ledger() -> Iterator[object]:
    from order_adapters.simulated import InMemoryLedger  # noqa: PLC0415

    yield InMemoryLedger()


LEDGERS = {"memory": memory_ledger}
