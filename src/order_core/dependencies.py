"""What every use case is given: the ports, resolved once at an entry point."""

from __future__ import annotations

from dataclasses import dataclass, field

from order_core.policy import OrderPolicy
from order_core.ports import (
    Accounts,
    Clock,
    IdempotencyStore,
    IdGenerator,
    MarketData,
    UnitOfWorkFactory,
)

__all__ = ["Dependencies"]


@dataclass(frozen=True, slots=True)
class Dependencies:
    """The ports the use cases run against, resolved once at an entry point.

    Money moves through the unit of work's ledger, with the orders.
    ``idempotency_gate`` is an optional fast store (Redis) consulted before the
    database; without one the durable records in the unit of work decide alone.
    """

    unit_of_work: UnitOfWorkFactory
    market_data: MarketData
    accounts: Accounts
    clock: Clock
    ids: IdGenerator
    policy: OrderPolicy = field(default_factory=OrderPolicy)
    idempotency_gate: IdempotencyStore | None = None
