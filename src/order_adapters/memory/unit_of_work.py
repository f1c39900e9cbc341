"""The in-memory :class:`~order_core.ports.UnitOfWork`: changes staged as rows,
applied all together at commit under the database's lock, or not at all."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Self

from order_adapters.memory import rows
from order_adapters.memory.committed import CommittedState
from order_adapters.memory.inbox import InMemoryInbox
from order_adapters.memory.repository import InMemoryRepository
from order_adapters.memory.staging import StagedChanges
from order_core.errors import ConcurrencyConflict, IdempotencyRecordExists
from order_core.ports import Ledger
from order_core.records import IdempotencyRecord

__all__ = ["InMemoryUnitOfWork"]


class InMemoryUnitOfWork:
    """A :class:`~order_core.ports.UnitOfWork` over an
    :class:`~order_adapters.memory.InMemoryDatabase`.

    Reads see committed data plus this unit's own changes; writes are staged as
    rows and applied at :meth:`commit` under the database lock after
    re-checking versions and idempotency keys, so two units racing on one
    order cannot both win.
    """

    __slots__ = ("_idempotency", "_inbox", "_ledger", "_staged", "orders", "outbox")

    def __init__(self, database: CommittedState) -> None:
        staged = self._staged = StagedChanges(database)
        self.orders = InMemoryRepository(staged)
        self.outbox = staged
        self._idempotency: _IdempotencyRecords | None = None
        self._inbox: InMemoryInbox | None = None
        self._ledger: Ledger | None = None

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            state = self._staged.db.ledger
            if state is None:
                raise RuntimeError("no ledger is attached to this database (attach_ledger)")
            self._ledger = state.within(self._staged.effects)
        return self._ledger

    @property
    def inbox(self) -> InMemoryInbox:
        if self._inbox is None:
            self._inbox = InMemoryInbox(self._staged)
        return self._inbox

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
        if (
            staged.added
            or staged.updated
            or staged.messages
            or staged.records
            or staged.effects
            or staged.locks
        ):
            staged.clear()

    def commit(self) -> None:
        staged = self._staged
        added, updated, records, messages, effects = (
            staged.added,
            staged.updated,
            staged.records,
            staged.messages,
            staged.effects,
        )
        if not (added or updated or records or messages or effects):
            staged.clear()  # nothing to write; the locks still end here
            self._ledger = None
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
            for effect in effects:
                effect()
        staged.clear()
        self._ledger = None  # the next transaction starts from what is committed

    def rollback(self) -> None:
        self._staged.clear()
        self._ledger = None


class _IdempotencyRecords:
    __slots__ = ("_staged", "_store")

    def __init__(self, staged: StagedChanges) -> None:
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
