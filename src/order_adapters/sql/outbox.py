"""The relay's side of the transactional outbox on ``order_outbox``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa

from order_adapters.sql.dialects import Dialect
from order_adapters.sql.mapping import message_from_row
from order_adapters.sql.session import pooled_connection
from order_adapters.sql.statements import Statements
from order_core.events import OutboxMessage

__all__ = ["SqlOutbox"]


class _Batch:
    __slots__ = ("_row_ids", "messages", "sent")

    def __init__(self, row_ids: list[int], messages: Sequence[OutboxMessage]) -> None:
        self._row_ids = row_ids
        self.messages = messages
        self.sent = False

    def mark_sent(self) -> None:
        self.sent = True


class SqlOutbox:
    """:class:`~order_core.ports.Outbox`: a claim is a transaction holding the
    claimed rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several relays
    share the work; the database's write lock on SQLite). Rows are marked sent
    when the claim ends after :meth:`_Batch.mark_sent`; otherwise the
    transaction rolls back and they are handed out again, with their ids."""

    def __init__(self, engine: sa.Engine, dialect: Dialect, statements: Statements) -> None:
        self._engine = engine
        self._dialect = dialect
        self._sql = statements

    @contextmanager
    def claim(self, limit: int) -> Iterator[_Batch]:
        dialect, sql = self._dialect, self._sql
        with pooled_connection(self._engine, dialect) as connection:
            dialect.begin(connection)
            rows = connection.execute(
                sql.unsent_outbox.text, sql.unsent_outbox.params({"limit": limit})
            ).fetchall()
            claimed = [message_from_row(row, dialect) for row in rows]
            batch = _Batch([row_id for row_id, _ in claimed], [message for _, message in claimed])
            try:
                yield batch
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            if batch.sent and batch._row_ids:
                connection.execute(
                    sql.mark_outbox_sent.text,
                    sql.mark_outbox_sent.params(
                        {
                            "ids": dialect.many(batch._row_ids),
                            "sent_at": dialect.time(datetime.now(UTC)),
                        }
                    ),
                )
                connection.execute("COMMIT")
            else:
                connection.execute("ROLLBACK")

    def mark_sent(self, message_ids: Sequence[UUID]) -> None:
        """Record messages delivered outside a claim as sent (one transaction)."""
        if not message_ids:
            return
        dialect, sql = self._dialect, self._sql.mark_messages_sent
        ids = dialect.many([dialect.uuid(message_id) for message_id in message_ids])
        values = {"message_ids": ids, "sent_at": dialect.time(datetime.now(UTC))}
        with pooled_connection(self._engine, dialect) as connection:
            connection.execute(sql.text, sql.params(values))

    def pending_count(self) -> int:
        """Messages not yet marked sent (for monitoring and tests)."""
        with pooled_connection(self._engine, self._dialect) as connection:
            row = connection.execute(
                "SELECT count(*) FROM order_outbox WHERE sent_at IS NULL"
            ).fetchone()
        return int(row[0])
