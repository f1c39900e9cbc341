"""What an in-memory database has committed: order rows with the indexes every
query uses, idempotency records and the outbox, all under one lock. Units of
work read it and apply their changes to it at commit."""

from __future__ import annotations

import bisect
import threading
from datetime import datetime
from decimal import Decimal

from order_adapters.memory import rows
from order_adapters.memory.idempotency import InMemoryIdempotencyStore
from order_adapters.memory.outbox import InMemoryOutbox
from order_adapters.memory.rows import OrderRow, Table
from order_core.values import OrderStatus

__all__ = ["OPEN_STATUSES", "CommittedState", "index_key"]

_ZERO = Decimal(0)
#: Statuses whose quantity counts as open (risk limits read the total).
OPEN_STATUSES = frozenset({OrderStatus.PENDING.value, OrderStatus.PROCESSING.value})
_IndexKey = tuple[datetime, int]  # (created_at, id): ascending = oldest first


def index_key(row: OrderRow) -> _IndexKey:
    return (row[rows.CREATED_AT], row[rows.ID])


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
        self.open_quantities: dict[tuple[int, str, str], Decimal] = {}
        self.idempotency = InMemoryIdempotencyStore(self.lock)
        self.outbox = InMemoryOutbox(self.lock)

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
        if row[rows.STATUS] in OPEN_STATUSES:
            self._add_open(row, row[rows.QUANTITY])

    def replace(self, row: OrderRow) -> None:
        order_id = row[rows.ID]
        previous = self.orders[order_id][rows.STATUS]
        self.orders[order_id] = row
        status = row[rows.STATUS]
        if previous != status:
            del self.by_status[previous][order_id]
            self.by_status[status][order_id] = None
            if previous in OPEN_STATUSES and status not in OPEN_STATUSES:
                self._add_open(row, -row[rows.QUANTITY])

    def _add_open(self, row: OrderRow, change: Decimal) -> None:
        key = (row[rows.USER], row[rows.SYMBOL], row[rows.SIDE])
        total = self.open_quantities.get(key, _ZERO) + change
        if total:
            self.open_quantities[key] = total
        else:
            self.open_quantities.pop(key, None)
