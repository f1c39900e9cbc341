"""An in-memory system of record: orders, outbox and idempotency records, with
units of work that commit all of their changes atomically or none.

It is a real backend (the eventsourcing way), not a mock: read-committed
isolation, optimistic versioning, unique idempotency keys, thread safety, and
indexes so that every repository query stays fast at millions of orders. It
stores rows of plain values (:mod:`order_adapters.memory.rows`), never the
domain objects it is handed.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Self
from uuid import UUID

from order_adapters.memory import rows
from order_adapters.memory.idempotency import InMemoryIdempotencyStore
from order_adapters.memory.rows import OrderRow, Table, order_from_row, order_to_row
from order_core.errors import ConcurrencyConflict, IdempotencyRecordExists
from order_core.events import OutboxMessage
from order_core.order import Order
from order_core.ports import OrderActivity, OrderPage
from order_core.rules.idempotency import IdempotencyRecord
from order_core.values import OrderSide, OrderStatus, Symbol

__all__ = ["InMemoryDatabase", "InMemoryOutbox", "InMemoryUnitOfWork"]

_ZERO = Decimal(0)
_OPEN = frozenset({OrderStatus.PENDING.value, OrderStatus.PROCESSING.value})
_IndexKey = tuple[datetime, int]  # (created_at, id): ascending = oldest first
_NOTHING: Mapping[object, object] = MappingProxyType({})  # an empty, unwritable stand-in


def _index_key(row: OrderRow) -> _IndexKey:
    return (row[rows.CREATED_AT], row[rows.ID])


class InMemoryDatabase:
    """Committed rows plus the indexes the queries use. Create units of work
    with :meth:`unit_of_work` (the database itself is a
    :class:`~order_core.ports.UnitOfWorkFactory`)."""

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

    def unit_of_work(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)

    __call__ = unit_of_work

    def __len__(self) -> int:
        return len(self.orders)

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
        key = _index_key(row)
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
        if row[rows.STATUS] in _OPEN:
            self._add_open(row, row[rows.QUANTITY])

    def replace(self, row: OrderRow) -> None:
        order_id = row[rows.ID]
        previous = self.orders[order_id][rows.STATUS]
        self.orders[order_id] = row
        status = row[rows.STATUS]
        if previous != status:
            del self.by_status[previous][order_id]
            self.by_status[status][order_id] = None
            if previous in _OPEN and status not in _OPEN:
                self._add_open(row, -row[rows.QUANTITY])

    def _add_open(self, row: OrderRow, change: Decimal) -> None:
        key = (row[rows.USER], row[rows.SYMBOL], row[rows.SIDE])
        total = self.open_quantities.get(key, _ZERO) + change
        if total:
            self.open_quantities[key] = total
        else:
            self.open_quantities.pop(key, None)


class _Staged:
    """One unit of work's uncommitted changes, shared by its views (which hold
    this, never the unit itself: no reference cycle, so a finished unit is
    freed at once rather than by the garbage collector)."""

    __slots__ = ("added", "db", "messages", "records", "updated")

    # Most units of work read more than they write: the containers are created
    # on first write (every read path tests them for emptiness first).
    def __init__(self, database: InMemoryDatabase) -> None:
        self.db = database
        self.added: dict[int, OrderRow] = _NOTHING  # type: ignore[assignment]
        self.updated: dict[int, tuple[int, OrderRow]] = _NOTHING  # type: ignore[assignment]
        self.messages: list[OutboxMessage] | tuple[()] = ()
        self.records: dict[str, IdempotencyRecord] = _NOTHING  # type: ignore[assignment]

    def add(self, messages: Iterable[OutboxMessage]) -> None:
        """Stage outbox messages (the unit of work's ``outbox.add``)."""
        if isinstance(self.messages, list):
            self.messages.extend(messages)
        else:
            self.messages = list(messages)

    def stage_order(self, order_id: int, row: OrderRow) -> None:
        if self.added is _NOTHING:
            self.added = {}
        self.added[order_id] = row

    def stage_update(self, order_id: int, expected_version: int, row: OrderRow) -> None:
        if self.updated is _NOTHING:
            self.updated = {}
        self.updated[order_id] = (expected_version, row)

    def stage_record(self, record: IdempotencyRecord) -> None:
        if self.records is _NOTHING:
            self.records = {}
        self.records[record.key] = record

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.updated)

    def current(self, order_id: int) -> OrderRow | None:
        """The order's row as this unit sees it (its own change, else the committed one)."""
        if self.added:
            staged = self.added.get(order_id)
            if staged is not None:
                return staged
        if self.updated:
            updated = self.updated.get(order_id)
            if updated is not None:
                return updated[1]
        return self.db.orders.get(order_id)

    def visible_rows(self) -> Iterator[OrderRow]:
        """Every row this unit sees (slow path, used only with staged changes)."""
        for order_id in itertools.chain(self.db.orders, self.added):
            row = self.current(order_id)
            if row is not None:
                yield row

    def clear(self) -> None:
        # Emptied in place: a unit's next transaction reuses its containers.
        if self.added:
            self.added.clear()
        if self.updated:
            self.updated.clear()
        if self.messages:
            assert isinstance(self.messages, list)
            self.messages.clear()
        if self.records:
            self.records.clear()


class InMemoryUnitOfWork:
    """A :class:`~order_core.ports.UnitOfWork` over an :class:`InMemoryDatabase`.

    Reads see committed data plus this unit's own changes; writes are staged as
    rows and applied at :meth:`commit` under the database lock after
    re-checking versions and idempotency keys, so two units racing on one
    order cannot both win.
    """

    __slots__ = ("_idempotency", "_staged", "orders", "outbox")

    def __init__(self, database: InMemoryDatabase) -> None:
        staged = self._staged = _Staged(database)
        self.orders = _Repository(staged)
        self.outbox = staged
        self._idempotency: _IdempotencyRecords | None = None

    @property
    def idempotency(self) -> _IdempotencyRecords:
        # Built on first use: most units of work (processing, queries) never ask.
        if self._idempotency is None:
            self._idempotency = _IdempotencyRecords(self._staged)
        return self._idempotency

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        staged = self._staged
        if staged.added or staged.updated or staged.messages or staged.records:
            staged.clear()

    def commit(self) -> None:
        staged = self._staged
        added, updated, records, messages = (
            staged.added,
            staged.updated,
            staged.records,
            staged.messages,
        )
        if not (added or updated or records or messages):
            return
        db = staged.db
        with db.lock:
            committed = db.orders
            for order_id in added:
                if order_id in committed:
                    raise ConcurrencyConflict(rows.uuid_from_int(order_id), 0)
            if updated:
                for order_id, (expected, _) in updated.items():
                    if committed[order_id][rows.VERSION] != expected:
                        raise ConcurrencyConflict(rows.uuid_from_int(order_id), expected)
            if records:
                for record in records.values():
                    if not db.idempotency.accepts_final(record):
                        raise IdempotencyRecordExists(record.key)
            if added:
                for row in added.values():
                    db.insert(row)
            if updated:
                for _, row in updated.values():
                    db.replace(row)
            if records:
                for record in records.values():
                    db.idempotency.store_final(record)
            if messages:
                db.outbox.append_locked(messages)
        staged.clear()

    def rollback(self) -> None:
        self._staged.clear()


class _Repository:
    __slots__ = ("_db", "_staged")

    def __init__(self, staged: _Staged) -> None:
        self._staged = staged
        self._db = staged.db

    def add(self, order: Order) -> None:
        order_id = order.id.int
        if self._staged.current(order_id) is not None:
            raise ConcurrencyConflict(order.id, 0)
        order.version = 1
        self._staged.stage_order(order_id, order_to_row(order))

    def get(self, order_id: UUID) -> Order | None:
        staged = self._staged
        if staged.added or staged.updated:
            row = staged.current(order_id.int)
        else:  # the common case: nothing staged, read the committed row
            row = self._db.orders.get(order_id.int)
        return None if row is None else order_from_row(row)

    def update(self, order: Order) -> None:
        staged = self._staged
        order_id = order.id.int
        if staged.added or staged.updated:
            current = staged.current(order_id)
        else:
            current = self._db.orders.get(order_id)
        if current is None or current[rows.VERSION] != order.version:
            raise ConcurrencyConflict(order.id, order.version)
        order.version += 1
        row = order_to_row(order)
        if order_id in staged.added:
            staged.stage_order(order_id, row)
        else:
            previous = staged.updated.get(order_id)
            expected = order.version - 1 if previous is None else previous[0]
            staged.stage_update(order_id, expected, row)

    # -- queries -------------------------------------------------------------------

    def list_by_user(self, user_id: UUID, status: OrderStatus | None = None) -> list[Order]:
        wanted = None if status is None else status.value
        return self._newest_first(
            user_id.int, lambda row: wanted is None or row[rows.STATUS] == wanted
        )

    def list_by_status(
        self,
        status: OrderStatus,
        *,
        symbols: Iterable[Symbol] | None = None,
        limit: int | None = None,
    ) -> list[Order]:
        wanted = status.value
        symbol_set = None if symbols is None else {str.__str__(s) for s in symbols}

        def matches(row: OrderRow) -> bool:
            return row[rows.STATUS] == wanted and (
                symbol_set is None or row[rows.SYMBOL] in symbol_set
            )

        with self._db.lock:
            if self._staged.has_changes:
                found = [row for row in self._staged.visible_rows() if matches(row)]
            else:
                committed = self._db.orders
                found = [
                    row
                    for row in map(committed.__getitem__, self._db.by_status[wanted])
                    if matches(row)
                ]
        found.sort(key=_index_key)
        return [order_from_row(row) for row in found[:limit]]

    def history(
        self, user_id: UUID, *, limit: int, offset: int, status: OrderStatus | None = None
    ) -> OrderPage:
        with self._db.lock:
            if status is None and not self._staged.has_changes:
                keys = self._db.by_user.get(user_id.int, [])
                total = len(keys)
                end = max(total - offset, 0)
                start = max(end - limit, 0)
                committed = self._db.orders
                page = [committed[order_id] for _, order_id in reversed(keys[start:end])]
                return OrderPage(orders=[order_from_row(row) for row in page], total_count=total)
        matching = self.list_by_user(user_id, status)
        return OrderPage(orders=matching[offset : offset + limit], total_count=len(matching))

    def list_by_symbol(self, symbol: Symbol, status: OrderStatus | None = None) -> list[Order]:
        text = str.__str__(symbol)
        wanted = None if status is None else status.value

        def matches(row: OrderRow) -> bool:
            return row[rows.SYMBOL] == text and (wanted is None or row[rows.STATUS] == wanted)

        with self._db.lock:
            if self._staged.has_changes:
                found = [row for row in self._staged.visible_rows() if matches(row)]
            else:
                committed = self._db.orders
                ids = self._db.by_symbol.get(text, {})
                found = [row for row in map(committed.__getitem__, ids) if matches(row)]
        found.sort(key=_index_key, reverse=True)
        return [order_from_row(row) for row in found]

    def list_by_date_range(self, user_id: UUID, start: datetime, end: datetime) -> list[Order]:
        return self._newest_first(
            user_id.int, lambda row: start <= row[rows.CREATED_AT] < end, since=start
        )

    def count_by_user(self, user_id: UUID, *, since: datetime | None = None) -> int:
        if not self._staged.has_changes:
            # No lock: bisect runs in C under the GIL, so it sees the list whole.
            times = self._db.times_by_user.get(user_id.int)
            if not times:
                return 0
            if since is None:
                return len(times)
            return len(times) - bisect.bisect_left(times, since)
        return len(
            self._newest_first(
                user_id.int,
                lambda row: since is None or row[rows.CREATED_AT] >= since,
                since=since,
            )
        )

    def open_quantity(self, user_id: UUID, symbol: Symbol, side: OrderSide) -> Decimal:
        key = (user_id.int, symbol, side._value_)  # a Symbol finds its plain-text key
        if not self._staged.has_changes:
            return self._db.open_quantities.get(key, _ZERO)
        with self._db.lock:
            return sum(
                (
                    row[rows.QUANTITY]
                    for row in self._staged.visible_rows()
                    if (row[rows.USER], row[rows.SYMBOL], row[rows.SIDE]) == key
                    and row[rows.STATUS] in _OPEN
                ),
                _ZERO,
            )

    def activity(
        self, user_id: UUID, symbol: Symbol, side: OrderSide, *, since: datetime
    ) -> OrderActivity:
        return OrderActivity(
            self.count_by_user(user_id, since=since), self.open_quantity(user_id, symbol, side)
        )

    def _newest_first(
        self,
        user: int,
        keep: Callable[[OrderRow], bool],
        *,
        since: datetime | None = None,
    ) -> list[Order]:
        with self._db.lock:
            if self._staged.has_changes:
                found = [
                    row
                    for row in self._staged.visible_rows()
                    if row[rows.USER] == user and keep(row)
                ]
                found.sort(key=_index_key, reverse=True)
            else:
                keys = self._db.by_user.get(user, [])
                first = 0 if since is None else bisect.bisect_left(keys, (since,))
                committed = self._db.orders
                found = [
                    row
                    for row in (committed[order_id] for _, order_id in reversed(keys[first:]))
                    if keep(row)
                ]
        return [order_from_row(row) for row in found]


class _IdempotencyRecords:
    __slots__ = ("_staged", "_store")

    def __init__(self, staged: _Staged) -> None:
        self._staged = staged
        self._store = staged.db.idempotency

    def get(self, key: str, now: datetime) -> IdempotencyRecord | None:
        if self._staged.records:
            staged = self._staged.records.get(key)
            if staged is not None:
                return staged
        return self._store.get(key, now)

    def put(self, record: IdempotencyRecord) -> None:
        # Checked once, at commit, under the lock (the port allows either).
        self._staged.stage_record(record)


@dataclass(slots=True)
class _Batch:
    outbox: InMemoryOutbox
    entries: list[tuple[int, OutboxMessage]]
    messages: Sequence[OutboxMessage] = field(init=False)

    def __post_init__(self) -> None:
        self.messages = [message for _, message in self.entries]

    def mark_sent(self) -> None:
        self.outbox._remove([sequence for sequence, _ in self.entries])


class InMemoryOutbox:
    """The outbox: messages appear when their unit of work commits and leave once
    marked sent. Claimed messages are invisible to other claimers until the
    claim ends. Thread-safe."""

    def __init__(self, lock: threading.RLock | None = None) -> None:
        self._lock = lock or threading.RLock()
        self._pending: dict[int, OutboxMessage] = {}
        self._claimed: set[int] = set()
        self._sequence = itertools.count()
        self.sent_count = 0

    def append(self, messages: Iterable[OutboxMessage]) -> None:
        with self._lock:
            self.append_locked(messages)

    def append_locked(self, messages: Iterable[OutboxMessage]) -> None:
        """:meth:`append` for a caller that holds the lock (a committing unit)."""
        pending, sequence = self._pending, self._sequence
        for message in messages:
            pending[next(sequence)] = message

    @contextmanager
    def claim(self, limit: int) -> Iterator[_Batch]:
        with self._lock:
            entries = list(
                itertools.islice(
                    ((seq, msg) for seq, msg in self._pending.items() if seq not in self._claimed),
                    limit,
                )
            )
            self._claimed.update(sequence for sequence, _ in entries)
        batch = _Batch(self, entries)
        try:
            yield batch
        finally:
            with self._lock:
                self._claimed.difference_update(sequence for sequence, _ in entries)

    def pending_count(self) -> int:
        with self._lock:
            return len(self._pending)

    def _remove(self, sequences: list[int]) -> None:
        with self._lock:
            for sequence in sequences:
                if self._pending.pop(sequence, None) is not None:
                    self.sent_count += 1


if TYPE_CHECKING:
    from order_core.ports import Outbox, UnitOfWorkFactory

    def _implements(database: InMemoryDatabase) -> tuple[UnitOfWorkFactory, Outbox]:
        return database, database.outbox
