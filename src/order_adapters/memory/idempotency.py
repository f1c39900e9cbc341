"""Idempotency records held in memory."""

from __future__ import annotations

import heapq
import threading
from datetime import datetime
from typing import TYPE_CHECKING

from order_adapters.memory.rows import (
    EXPIRES_AT,
    STATE,
    TOKEN,
    RecordRow,
    Table,
    record_from_row,
    record_to_row,
)
from order_core.records import IdempotencyRecord, IdempotencyState

__all__ = ["InMemoryIdempotencyStore"]

_PENDING = IdempotencyState.PENDING.value


class InMemoryIdempotencyStore:
    """An :class:`~order_core.ports.IdempotencyStore`; also the record table
    behind :class:`~order_adapters.memory.InMemoryDatabase`'s units of work.

    Thread-safe; expired records are dropped as time passes, so memory stays
    bounded by the keys of the last TTL.
    """

    def __init__(self, lock: threading.RLock | None = None) -> None:
        self._lock = lock or threading.RLock()
        self._rows: Table[str, RecordRow] = Table()
        self._expiries: list[tuple[datetime, str]] = []

    def begin(self, claim: IdempotencyRecord) -> IdempotencyRecord | None:
        with self._lock:
            self._purge(claim.created_at)
            existing = self._live(claim.key, claim.created_at)
            if existing is not None:
                return record_from_row(existing)
            self._store(claim)
            return None

    def reclaim(
        self, stale: IdempotencyRecord, claim: IdempotencyRecord
    ) -> IdempotencyRecord | None:
        with self._lock:
            current = self._live(claim.key, claim.created_at)
            if current is None or (current[STATE] == _PENDING and current[TOKEN] == stale.token):
                self._store(claim)
                return None
            return record_from_row(current)

    def finish(self, record: IdempotencyRecord) -> bool:
        with self._lock:
            current = self._rows.get(record.key)
            if current is None or current[TOKEN] != record.token:
                return False
            if current[STATE] == _PENDING or record_from_row(current) == record:
                self._store(record)
                return True
            return False

    def release(self, key: str, token: str) -> bool:
        with self._lock:
            current = self._rows.get(key)
            if current is not None and current[TOKEN] == token and current[STATE] == _PENDING:
                del self._rows[key]
                return True
            return False

    def get(self, key: str, now: datetime) -> IdempotencyRecord | None:
        row = self._rows.get(key)  # a read needs no lock; expired rows are purged by writers
        if row is None or row[EXPIRES_AT] <= now:
            return None
        return record_from_row(row)

    # -- used by the in-memory unit of work ---------------------------------------

    def accepts_final(self, record: IdempotencyRecord) -> bool:
        """Whether :meth:`store_final` may write ``record`` (no live holder, or a
        PENDING one with the same token). Call with the lock held."""
        current = self._live(record.key, record.created_at)
        return current is None or (current[STATE] == _PENDING and current[TOKEN] == record.token)

    def store_final(self, record: IdempotencyRecord) -> None:
        """Write a final record checked by :meth:`accepts_final`. Call with the lock held."""
        self._store(record)

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)

    # -- internals --------------------------------------------------------------------

    def _live(self, key: str, now: datetime) -> RecordRow | None:
        row = self._rows.get(key)
        if row is not None and row[EXPIRES_AT] <= now:
            del self._rows[key]
            return None
        return row

    def _store(self, record: IdempotencyRecord) -> None:
        self._rows[record.key] = record_to_row(record)
        heapq.heappush(self._expiries, (record.expires_at, record.key))

    def _purge(self, now: datetime) -> None:
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            expires_at, key = heapq.heappop(expiries)
            row = self._rows.get(key)
            if row is not None and row[EXPIRES_AT] == expires_at:
                del self._rows[key]


if TYPE_CHECKING:
    from order_core.ports import IdempotencyStore

    def _implements(store: InMemoryIdempotencyStore) -> IdempotencyStore:
        return store
