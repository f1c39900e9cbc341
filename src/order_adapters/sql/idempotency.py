"""The idempotency store on ``order_idempotency``, usable as a gate: each call
is its own statement or two, committed at once (not part of a unit of work).

Deployments with Redis put it in front; this store gives in-flight detection
across processes without Redis, on the same rows the units of work write."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from order_adapters.sql.dialects import Dialect, Sql
from order_adapters.sql.mapping import record_from_row, record_params
from order_adapters.sql.session import pooled_connection
from order_adapters.sql.statements import Statements
from order_core.records import IdempotencyRecord

__all__ = ["SqlIdempotencyStore"]


class SqlIdempotencyStore:
    """:class:`~order_core.ports.IdempotencyStore` over the SQL table."""

    def __init__(self, engine: sa.Engine, dialect: Dialect, statements: Statements) -> None:
        self._engine = engine
        self._dialect = dialect
        self._sql = statements

    def begin(self, claim: IdempotencyRecord) -> IdempotencyRecord | None:
        d, sql = self._dialect, self._sql
        values = record_params(claim, d)
        values["now"] = d.time(claim.created_at)
        with self._connection() as run:
            # One statement: insert, or take over an expired record.
            row = run(sql.claim_record, values).fetchone()
            if row is not None and row[0] == claim.token:
                return None
            current = run(
                sql.record_by_key, {"idempotency_key": claim.key, "now": values["now"]}
            ).fetchone()
        if current is None:  # it expired between the two statements
            return self.begin(claim)
        return record_from_row(current, d)

    def reclaim(
        self, stale: IdempotencyRecord, claim: IdempotencyRecord
    ) -> IdempotencyRecord | None:
        d, sql = self._dialect, self._sql
        values = record_params(claim, d)
        now = d.time(claim.created_at)
        with self._connection() as run:
            replaced = run(
                sql.reclaim_record,
                {**values, "b_key": claim.key, "b_stale_token": stale.token, "now": now},
            ).rowcount
            if replaced == 1:
                return None
            if run(sql.insert_record_if_absent, values).rowcount == 1:
                return None  # the key had become free
            current = run(sql.record_by_key, {"idempotency_key": claim.key, "now": now}).fetchone()
        return None if current is None else record_from_row(current, d)

    def finish(self, record: IdempotencyRecord) -> bool:
        d, sql = self._dialect, self._sql
        values = record_params(record, d)
        with self._connection() as run:
            updated = run(
                sql.finish_record, {**values, "b_key": record.key, "b_token": record.token}
            ).rowcount
            if updated == 1:
                return True
            current = run(
                sql.record_by_key,
                {"idempotency_key": record.key, "now": d.time(record.created_at)},
            ).fetchone()
        return current is not None and record_from_row(current, d) == record

    def release(self, key: str, token: str) -> bool:
        with self._connection() as run:
            deleted = run(
                self._sql.release_record, {"idempotency_key": key, "owner_token": token}
            ).rowcount
        return bool(deleted == 1)

    def get(self, key: str, now: datetime) -> IdempotencyRecord | None:
        d = self._dialect
        with self._connection() as run:
            row = run(
                self._sql.record_by_key, {"idempotency_key": key, "now": d.time(now)}
            ).fetchone()
        return None if row is None else record_from_row(row, d)

    @contextmanager
    def _connection(self) -> Iterator[Callable[[Sql, dict[str, Any]], Any]]:
        """Runs statements, in autocommit, on one pooled connection for the call."""
        with pooled_connection(self._engine, self._dialect) as connection:

            def run(sql: Sql, values: dict[str, Any]) -> Any:
                return connection.execute(sql.text, sql.params(values))

            yield run
