"""The SQL unit of work: orders, outbox messages, idempotency records and the
ledger's movements written together in one transaction per commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from order_adapters.sql.mapping import message_params, record_from_row, record_params
from order_adapters.sql.repository import SqlOrderRepository
from order_adapters.sql.session import Session
from order_core.errors import IdempotencyRecordExists
from order_core.events import OutboxMessage
from order_core.ports import Ledger
from order_core.records import IdempotencyRecord

__all__ = ["LedgerFactory", "SqlUnitOfWork"]

#: Makes the ledger a unit of work uses from the unit's session, so its reads
#: and writes share the unit's connection and transaction.
LedgerFactory = Callable[[Session], Ledger]


class SqlUnitOfWork:
    """A :class:`~order_core.ports.UnitOfWork` on one pooled connection, which it
    returns when its ``with`` block ends."""

    __slots__ = (
        "_ledger",
        "_ledger_factory",
        "_session",
        "idempotency",
        "inbox",
        "orders",
        "outbox",
    )

    def __init__(self, session: Session, ledger: LedgerFactory | None = None) -> None:
        self._session = session
        self.orders = SqlOrderRepository(session)
        self.outbox = _OutboxWriter(session)
        self.idempotency = _IdempotencyRecords(session)
        self.inbox = _Inbox(session)
        self._ledger_factory = ledger
        self._ledger: Ledger | None = None
        if ledger is not None:
            session.on_lock = self._user_locked

    @property
    def ledger(self) -> Ledger:
        """The ledger, in this unit's transaction."""
        if self._ledger is None:
            if self._ledger_factory is None:
                raise RuntimeError(
                    "no ledger is attached to this database: call "
                    "SqlDatabase.attach_ledger(factory) when wiring it"
                )
            self._ledger = self._ledger_factory(self._session)
        return self._ledger

    def _user_locked(self, user_id: UUID) -> None:
        """A transaction that locks a user moves the user's money: its ledger
        may read the account along with the lock (no round trip of its own)."""
        locked = getattr(self.ledger, "user_locked", None)
        if locked is not None:
            locked(user_id)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.orders.forget_staged()
        self._session.on_lock = None  # no cycle left for the garbage collector
        self._session.close()

    def commit(self) -> None:
        self.orders.forget_staged()
        self._session.commit()

    def rollback(self) -> None:
        self.orders.forget_staged()
        self._session.rollback()


class _OutboxWriter:
    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, messages: Iterable[OutboxMessage]) -> None:
        session = self._session
        for message in messages:
            session.write(session.sql.insert_outbox, message_params(message, session.dialect))


class _IdempotencyRecords:
    """The durable records: the table's primary key decides who holds a key."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, key: str, now: datetime) -> IdempotencyRecord | None:
        s = self._session
        row = s.fetch_one(s.sql.record_by_key, {"idempotency_key": key, "now": s.dialect.time(now)})
        return None if row is None else record_from_row(row, s.dialect)

    def put(self, record: IdempotencyRecord) -> None:
        s = self._session
        # One statement: an expired record, or this submission's own PENDING
        # claim, is replaced; any other holder leaves the row as it is, and the
        # commit then raises IdempotencyRecordExists (a concurrent holder's
        # transaction is waited for first, as for any insert of the key).
        values = record_params(record, s.dialect)
        values["now"] = s.dialect.time(record.created_at)
        s.write(s.sql.put_record, values, IdempotencyRecordExists(record.key))


class _Inbox:
    """Handled messages; a record is a buffered write sent with the commit."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def seen(self, message_id: UUID, consumer: str) -> bool:
        s = self._session
        values = {"message_id": s.dialect.uuid(message_id), "consumer": consumer}
        return s.fetch_one(s.sql.inbox_seen, values) is not None

    def record(self, message_id: UUID, consumer: str, at: datetime) -> None:
        s = self._session
        values = {
            "message_id": s.dialect.uuid(message_id),
            "consumer": consumer,
            "processed_at": s.dialect.time(at),
        }
        s.write(s.sql.record_inbox, values)

    def forget_before(self, before: datetime) -> None:
        s = self._session
        s.write(s.sql.forget_inbox, {"before": s.dialect.time(before)})
