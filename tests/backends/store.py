"""What a system-of-record backend hands to the contract suites."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from order_core.ports import IdempotencyStore, Outbox, UnitOfWorkFactory


@dataclass
class Store:
    """Units of work, the relay's view of the outbox, and the idempotency store
    over the same records the units of work write (a deployment may use it as
    its gate)."""

    unit_of_work: UnitOfWorkFactory
    outbox: Outbox
    idempotency: IdempotencyStore


@dataclass
class LedgerStore:
    """A system of record with the simulated ledger attached: units of work
    whose ``ledger`` moves money with the orders, and the ledger's controls
    (``open_account``, ``books``, ``set_active``, the read ports ``accounts``,
    ``balances``, ``positions``) over the same accounts."""

    unit_of_work: UnitOfWorkFactory
    controls: Any
