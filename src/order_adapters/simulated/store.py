"""Transactions on the simulator's tables, on the service's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from order_adapters.simulated.tables import sim_metadata
from order_adapters.sql import SqlDatabase
from order_adapters.sql.dialects import Dialect, Sql
from order_adapters.sql.migrate import schema_lock
from order_adapters.sql.session import translated

__all__ = ["Run", "SimStore"]

Run = Callable[[Sql, dict[str, Any]], Any]
"""Runs a statement with its values in the current transaction; the cursor back."""


class SimStore:
    """The simulator's access to the database: atomic read-modify-write
    transactions (rows locked with ``FOR UPDATE`` on PostgreSQL; the write lock
    taken at BEGIN on SQLite), and plain reads."""

    def __init__(self, database: SqlDatabase) -> None:
        self.engine = database.engine
        self.dialect: Dialect = database.dialect
        # Under the schema lock: processes starting together create them once.
        with (
            translated(self.dialect),
            self.engine.connect() as connection,
            schema_lock(connection),
        ):
            sim_metadata.create_all(connection, checkfirst=True)
            connection.commit()

    def compile(self, statement: sa.ClauseElement) -> Sql:
        return self.dialect.compile(statement)

    def locking(self, select: sa.Select[Any]) -> sa.Select[Any]:
        """``select`` taking row locks where the database has them."""
        return select.with_for_update() if self.dialect.name == "postgresql" else select

    @contextmanager
    def transaction(self) -> Iterator[Run]:
        dialect = self.dialect
        with translated(dialect):
            pooled = self.engine.raw_connection()
        connection: Any = pooled.driver_connection
        try:
            with translated(dialect, pooled):
                dialect.begin(connection)

            def run(sql: Sql, values: dict[str, Any]) -> Any:
                with translated(dialect, pooled):
                    return connection.execute(sql.text, sql.params(values))

            try:
                yield run
            except BaseException:
                with translated(dialect, pooled):
                    connection.execute("ROLLBACK")
                raise
            with translated(dialect, pooled):
                connection.execute("COMMIT")
        finally:
            pooled.close()

    def read(self, sql: Sql, values: dict[str, Any]) -> list[Any]:
        dialect = self.dialect
        with translated(dialect):
            pooled = self.engine.raw_connection()
        try:
            connection: Any = pooled.driver_connection
            with translated(dialect, pooled):
                return list(connection.execute(sql.text, sql.params(values)).fetchall())
        finally:
            pooled.close()
