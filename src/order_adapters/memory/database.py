"""An in-memory system of record: orders, outbox and idempotency records, with
units of work that commit all of their changes atomically or none.

It is a real backend (the eventsourcing way), not a mock: read-committed
isolation, optimistic versioning, unique idempotency keys, thread safety, and
indexes so that every repository query stays fast at millions of orders. It
stores rows of plain values (:mod:`order_adapters.memory.rows`), never the
domain objects it is handed.

The parts, each in its module: the committed state and its indexes
(:mod:`~order_adapters.memory.committed`), a unit of work
(:mod:`~order_adapters.memory.unit_of_work`) with its staged changes
(:mod:`~order_adapters.memory.staging`) and its view of the orders
(:mod:`~order_adapters.memory.repository`), and the outbox
(:mod:`~order_adapters.memory.outbox`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from order_adapters.memory.committed import CommittedState
from order_adapters.memory.unit_of_work import InMemoryUnitOfWork

__all__ = ["InMemoryDatabase"]


class InMemoryDatabase(CommittedState):
    """Committed rows plus the indexes the queries use. Create units of work
    with :meth:`unit_of_work` (the database itself is a
    :class:`~order_core.ports.UnitOfWorkFactory`)."""

    def unit_of_work(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)

    __call__ = unit_of_work

    def __len__(self) -> int:
        return len(self.orders)


if TYPE_CHECKING:
    from order_core.ports import Outbox, UnitOfWorkFactory

    def _implements(database: InMemoryDatabase) -> tuple[UnitOfWorkFactory, Outbox]:
        return database, database.outbox
