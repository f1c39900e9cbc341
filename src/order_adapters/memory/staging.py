"""What an in-memory unit of work has changed and not yet committed, as rows."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType

from order_adapters.memory.committed import CommittedState
from order_adapters.memory.rows import OrderRow
from order_core.events import OutboxMessage
from order_core.records import IdempotencyRecord

__all__ = ["StagedChanges"]

_NOTHING: Mapping[object, object] = MappingProxyType({})  # an empty, unwritable stand-in


class StagedChanges:
    """One unit of work's uncommitted changes, shared by its views (which hold
    this, never the unit itself: no reference cycle, so a finished unit is
    freed at once rather than by the garbage collector)."""

    __slots__ = ("added", "db", "effects", "locks", "messages", "records", "updated")

    # Most units of work read more than they write: the containers are created
    # on first write (every read path tests them for emptiness first).
    def __init__(self, database: CommittedState) -> None:
        self.db = database
        self.added: dict[int, OrderRow] = _NOTHING  # type: ignore[assignment]
        self.updated: dict[int, tuple[int, OrderRow]] = _NOTHING  # type: ignore[assignment]
        self.messages: list[OutboxMessage] | tuple[()] = ()
        self.records: dict[str, IdempotencyRecord] = _NOTHING  # type: ignore[assignment]
        #: Ledger changes, run at commit with the database's lock held.
        self.effects: list[Callable[[], None]] = []
        #: The user locks this transaction holds until it ends.
        self.locks: list[threading.RLock] = []

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

    def lock_user(self, user: int) -> None:
        lock = self.db.user_lock(user)
        if lock not in self.locks:
            lock.acquire()
            self.locks.append(lock)

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
        if self.effects:
            self.effects.clear()
        while self.locks:  # the transaction is over: so are its locks
            self.locks.pop().release()
