"""Transactions on the simulator's tables, on the service's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from order_adapters.simulated.tables import sim_metadata
from order_adapters.sql import Dialect, Sql, SqlDatabase, pooled_connection, schema_lock, translated

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
        with pooled_connection(self.engine, dialect) as connection:
            dialect.begin(connection)

            def run(sql: Sql, values: dict[str, Any]) -> Any:
                return connection.execute(sql.text, sql.params(values))

            try:
                yield run
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def read(self, sql: Sql, values: dict[str, Any]) -> list[Any]:
        with pooled_connection(self.engine, self.dialect) as connection:
            return list(connection.execute(sql.text, sql.params(values)).fetchall())
