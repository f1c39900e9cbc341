"""The relay's side of the transactional outbox on ``order_outbox``.

Ordering rule (PostgreSQL, several relays): a relay claims the oldest unsent
rows with ``FOR UPDATE SKIP LOCKED`` in id order, then hands out only those
with no older unsent row of the same order (``aggregate_id``) outside its own
claim, i.e. held by another relay. Such a row waits, still locked, until the
claim ends; the next claim takes it once the older one is sent. So one order's
messages are published in the order they were written, whatever the number
of relays, and a relay marks a message sent only after its confirm.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from order_adapters.sql.dialects import Dialect
from order_adapters.sql.mapping import message_from_row
from order_adapters.sql.session import pooled_connection
from order_adapters.sql.statements import Statements
from order_core.events import OutboxMessage

__all__ = ["NOTIFY_CHANNEL", "OutboxNotifications", "SqlOutbox"]

_log = logging.getLogger("order_adapters.sql")

#: The channel the outbox trigger (migration 0003) notifies at each commit.
NOTIFY_CHANNEL = "order_outbox"

#: The claim on PostgreSQL: lock the oldest unsent rows nobody holds, and keep
#: back any whose order has an older unsent row another relay holds.
_CLAIM_IN_ORDER = """
WITH claimed AS (
    SELECT id, message_id, event_type, payload, aggregate_id
    FROM order_outbox
    WHERE sent_at IS NULL
    ORDER BY id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
),
held AS (
    SELECT o.aggregate_id, min(o.id) AS first_id
    FROM order_outbox o
    WHERE o.sent_at IS NULL
      AND o.id < (SELECT max(id) FROM claimed)
      AND NOT EXISTS (SELECT 1 FROM claimed c WHERE c.id = o.id)
    GROUP BY o.aggregate_id
)
SELECT c.id, c.message_id, c.event_type, c.payload
FROM claimed c LEFT JOIN held h ON h.aggregate_id = c.aggregate_id
WHERE h.first_id IS NULL OR h.first_id > c.id
ORDER BY c.id
"""
_OLDEST_UNSENT = "SELECT created_at FROM order_outbox WHERE sent_at IS NULL ORDER BY id LIMIT 1"


class _Batch:
    __slots__ = ("_row_ids", "messages", "sent")

    def __init__(self, row_ids: list[int], messages: Sequence[OutboxMessage]) -> None:
        self._row_ids = row_ids
        self.messages = messages
        self.sent: set[UUID] = set()

    def mark_sent(self, message_ids: Sequence[UUID] | None = None) -> None:
        """Mark the batch (or only ``message_ids`` of it) sent when the claim ends."""
        if message_ids is None:
            self.sent = {message.message_id for message in self.messages}
        else:
            self.sent.update(message_ids)

    def sent_row_ids(self) -> list[int]:
        return [
            row_id
            for row_id, message in zip(self._row_ids, self.messages, strict=True)
            if message.message_id in self.sent
        ]


class SqlOutbox:
    """:class:`~order_core.ports.Outbox`: a claim is a transaction holding the
    claimed rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, with the ordering
    rule above, so several relays share the work; the database's write lock on
    SQLite). Rows are marked sent when the claim ends after
    :meth:`_Batch.mark_sent`; the rest roll back and are handed out again,
    with their ids."""

    def __init__(self, engine: sa.Engine, dialect: Dialect, statements: Statements) -> None:
        self._engine = engine
        self._dialect = dialect
        self._sql = statements

    @contextmanager
    def claim(self, limit: int) -> Iterator[_Batch]:
        dialect, sql = self._dialect, self._sql
        with pooled_connection(self._engine, dialect) as connection:
            dialect.begin(connection)
            if dialect.name == "postgresql":
                rows = connection.execute(_CLAIM_IN_ORDER, {"limit": limit}).fetchall()
            else:
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
            row_ids = batch.sent_row_ids()
            if row_ids:
                connection.execute(
                    sql.mark_outbox_sent.text,
                    sql.mark_outbox_sent.params(
                        {"ids": dialect.many(row_ids), "sent_at": dialect.time(datetime.now(UTC))}
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

    def oldest_unsent_at(self) -> datetime | None:
        """When the oldest message not yet sent was written (UTC), or None."""
        with pooled_connection(self._engine, self._dialect) as connection:
            row = connection.execute(_OLDEST_UNSENT).fetchone()
        return None if row is None else self._dialect.time_from(row[0])


class OutboxNotifications:
    """``LISTEN order_outbox`` on a connection of its own (PostgreSQL): the
    relay sleeps until a commit adds outbox rows or its poll interval passes.
    Any failure falls back to polling and listens again on the next wait."""

    def __init__(self, engine: sa.Engine, *, timeout: float = 10.0) -> None:
        url = engine.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._timeout = timeout
        self._connection: Any = None

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a notification; whether one came."""
        import psycopg  # noqa: PLC0415  # only PostgreSQL relays listen

        started = time.monotonic()
        try:
            if self._connection is None:
                self._connection = psycopg.connect(
                    self._conninfo, autocommit=True, connect_timeout=max(1, round(self._timeout))
                )
                self._connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
            # Notifications queued meanwhile wake the next wait at once: one
            # more pass, which finds nothing or a few rows.
            return any(True for _ in self._connection.notifies(timeout=seconds, stop_after=1))
        except psycopg.Error as error:
            _log.warning("outbox notifications lost (%s); polling", error)
            self.close()
            time.sleep(max(0.0, seconds - (time.monotonic() - started)))
            return False

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception as error:  # already broken
                _log.debug("closing the notification connection: %s", error)
