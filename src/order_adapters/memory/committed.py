"""What an in-memory database has committed: order rows with the indexes every
query uses, idempotency records, the outbox and (when one is attached) the
ledger, all under one lock. Units of work read it and apply their changes to
it at commit."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from order_adapters.memory import rows
from order_adapters.memory.idempotency import InMemoryIdempotencyStore
from order_adapters.memory.outbox import InMemoryOutbox
from order_adapters.memory.rows import OrderRow, Table
from order_core.decimals import add
from order_core.ports import Ledger
from order_core.values import OrderStatus

__all__ = [
    "OPEN_STATUSES",
    "CommittedState",
    "LedgerState",
    "index_key",
    "moves_holding",
    "unapplied",
]

_ZERO = Decimal(0)
#: Statuses whose quantity counts as open (risk limits read the total).
OPEN_STATUSES = frozenset({OrderStatus.PENDING.value, OrderStatus.PROCESSING.value})
_EXECUTED = OrderStatus.EXECUTED.value
_IndexKey = tuple[datetime, int]  # (created_at, id): ascending = oldest first


def index_key(row: OrderRow) -> _IndexKey:
    return (row[rows.CREATED_AT], row[rows.ID])


def unapplied(row: OrderRow) -> bool:
    """An EXECUTED order whose position update is not applied yet."""
    return row[rows.STATUS] == _EXECUTED and row[rows.POSITION_APPLIED_AT] is None


def moves_holding(row: OrderRow) -> bool:
    """Whether the order's quantity is still to move the holding: open, or
    executed and not applied yet."""
    return row[rows.STATUS] in OPEN_STATUSES or unapplied(row)


class LedgerState(Protocol):
    """An in-memory ledger whose changes commit with the orders (the simulated
    one): it shares the database's lock once attached."""

    def attach(self, lock: threading.RLock) -> None: ...

    def within(self, effects: list[Callable[[], None]]) -> Ledger:
        """The ledger a unit of work sees; its changes are appended to
        ``effects``, run at commit with the lock held."""
        ...


class CommittedState:
    """Committed rows plus the indexes the queries use. Changed only by a
    committing unit of work, through :meth:`insert` and :meth:`replace`, with
    :attr:`lock` held."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.orders: Table[int, OrderRow] = Table()
        self.by_user: dict[int, list[_IndexKey]] = {}
        # Creation times per user, parallel to by_user: bisecting datetimes is
        # cheaper than bisecting tuples, and daily counts run on every submit.
        self.times_by_user: dict[int, list[datetime]] = {}
        self.by_status: dict[str, dict[int, None]] = {status.value: {} for status in OrderStatus}
        self.by_symbol: dict[str, dict[int, None]] = {}
        # (user, symbol, side) -> quantity of orders still to move the holding.
        self.pending_quantities: dict[tuple[int, str, str], Decimal] = {}
        self.unapplied: dict[int, None] = {}  # EXECUTED, position not applied yet
        self.idempotency = InMemoryIdempotencyStore(self.lock)
        self.outbox = InMemoryOutbox(self.lock)
        #: (message id, consumer) -> when its effect committed.
        self.inbox: dict[tuple[UUID, str], datetime] = {}
        self.ledger: LedgerState | None = None
        self._user_locks: dict[int, threading.RLock] = {}

    def attach_ledger(self, ledger: LedgerState) -> None:
        """Let units of work move money in ``ledger`` with their orders."""
        ledger.attach(self.lock)
        self.ledger = ledger

    def user_lock(self, user: int) -> threading.RLock:
        """The lock serialising the transactions that move one user's money."""
        lock = self._user_locks.get(user)
        if lock is None:
            with self.lock:
                lock = self._user_locks.setdefault(user, threading.RLock())
        return lock

    # -- applying committed changes (lock held) ---------------------------------------

    def insert(self, row: OrderRow) -> None:
        order_id = row[rows.ID]
        self.orders[order_id] = row
        user = row[rows.USER]
        keys = self.by_user.get(user)
        if keys is None:  # not setdefault: its default would be built on every call
            keys = self.by_user[user] = []
            self.times_by_user[user] = []
        times = self.times_by_user[user]
        key = index_key(row)
        if not keys or key > keys[-1]:  # the usual case: newer than anything the user has
            keys.append(key)
            times.append(key[0])
        else:
            position = bisect.bisect(keys, key)
            keys.insert(position, key)
            times.insert(position, key[0])
        self.by_status[row[rows.STATUS]][order_id] = None
        of_symbol = self.by_symbol.get(row[rows.SYMBOL])
        if of_symbol is None:
            of_symbol = self.by_symbol[row[rows.SYMBOL]] = {}
        of_symbol[order_id] = None
        if moves_holding(row):
            self._add_pending(row, row[rows.QUANTITY])
        if unapplied(row):
            self.unapplied[order_id] = None

    def replace(self, row: OrderRow) -> None:
        order_id = row[rows.ID]
        before = self.orders[order_id]
        self.orders[order_id] = row
        previous, status = before[rows.STATUS], row[rows.STATUS]
        if previous != status:
            del self.by_status[previous][order_id]
            self.by_status[status][order_id] = None
        was, now = moves_holding(before), moves_holding(row)
        if was != now:
            quantity = row[rows.QUANTITY]
            self._add_pending(row, quantity if now else quantity.copy_negate())
        if unapplied(row):
            self.unapplied[order_id] = None
        else:
            self.unapplied.pop(order_id, None)

    def _add_pending(self, row: OrderRow, change: Decimal) -> None:
        key = (row[rows.USER], row[rows.SYMBOL], row[rows.SIDE])
        total = add(self.pending_quantities.get(key, _ZERO), change)
        if total:
            self.pending_quantities[key] = total
        else:
            self.pending_quantities.pop(key, None)
