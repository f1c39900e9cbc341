"""What a system-of-record backend hands to the contract suites."""

from __future__ import annotations

from dataclasses import dataclass

from order_core.ports import IdempotencyStore, Outbox, UnitOfWorkFactory


@dataclass
class Store:
    """Units of work, the relay's view of the outbox, and the idempotency store
    over the same records the units of work write (a deployment may use it as
    its gate)."""

    unit_of_work: UnitOfWorkFactory
    outbox: Outbox
    idempotency: IdempotencyStore
