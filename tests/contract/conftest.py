"""The backends every contract suite runs against.

A backend is registered once here (a context manager building it and tearing it
down); every test in the contract suites then runs against each registered
backend. The SQL and Redis adapters add themselves below, so fakes and real
adapters cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import pytest

from order_adapters.memory import InMemoryDatabase, InMemoryIdempotencyStore
from order_core.ports import IdempotencyStore, Outbox, UnitOfWorkFactory


@dataclass
class Store:
    """A system of record under test: units of work, the relay's view of the
    outbox, and the idempotency store over the same records the units of work
    write (a deployment may use it as its gate)."""

    unit_of_work: UnitOfWorkFactory
    outbox: Outbox
    idempotency: IdempotencyStore


@contextmanager
def memory_store() -> Iterator[Store]:
    database = InMemoryDatabase()
    yield Store(unit_of_work=database, outbox=database.outbox, idempotency=database.idempotency)


@contextmanager
def memory_idempotency() -> Iterator[IdempotencyStore]:
    yield InMemoryIdempotencyStore()


STORES: dict[str, Callable[[], AbstractContextManager[Store]]] = {"memory": memory_store}
IDEMPOTENCY_STORES: dict[str, Callable[[], AbstractContextManager[IdempotencyStore]]] = {
    "memory": memory_idempotency,
}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    with STORES[request.param]() as built:
        yield built


@pytest.fixture(params=sorted(IDEMPOTENCY_STORES))
def idempotency_store(request: pytest.FixtureRequest) -> Iterator[IdempotencyStore]:
    with IDEMPOTENCY_STORES[request.param]() as built:
        yield built
