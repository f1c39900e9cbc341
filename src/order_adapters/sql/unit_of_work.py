"""The SQL unit of work: orders, outbox messages and idempotency records written
together in one transaction per commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import TracebackType
from typing import Self

from order_adapters.sql.mapping import message_params, record_from_row, record_params
from order_adapters.sql.repository import SqlOrderRepository
from order_adapters.sql.session import Session
from order_core.events import OutboxMessage
from order_core.records import IdempotencyRecord

__all__ = ["SqlUnitOfWork"]


class SqlUnitOfWork:
    """A :class:`~order_core.ports.UnitOfWork` on one pooled connection, which it
    returns when its ``with`` block ends."""

    __slots__ = ("_session", "idempotency", "orders", "outbox")

    def __init__(self, session: Session) -> None:
        self._session = session
        self.orders = SqlOrderRepository(session)
        self.outbox = _OutboxWriter(session)
        self.idempotency = _IdempotencyRecords(session)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.orders.forget_staged()
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
        # An expired record, or this submission's own PENDING claim, makes way;
        # any other holder makes the insert violate the key, and the commit then
        # raises IdempotencyRecordExists (a concurrent holder is waited for first).
        s.write(
            s.sql.delete_replaceable_record,
            {
                "idempotency_key": record.key,
                "now": s.dialect.time(record.created_at),
                "owner_token": record.token,
            },
        )
        s.write(s.sql.insert_record, record_params(record, s.dialect))
