"""Transactions on the simulator's tables, on the service's database, and the
tables themselves: created when missing, and brought up to date when an
earlier release made them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from order_adapters.simulated.tables import sim_accounts, sim_metadata, sim_positions
from order_adapters.sql import Dialect, Sql, SqlDatabase, pooled_connection, schema_lock, translated

__all__ = ["Run", "SimStore"]

Run = Callable[[Sql, dict[str, Any]], Any]
"""Runs a statement with its values in the current transaction; the cursor back."""


class SimStore:
    """The simulator's access to the database: atomic read-modify-write
    transactions (rows locked with ``FOR UPDATE`` on PostgreSQL; the write lock
    taken at BEGIN on SQLite), and plain reads. Nothing connects until first
    used; the first use makes (or brings up to date) the tables."""

    def __init__(self, database: SqlDatabase) -> None:
        self.engine = database.engine
        self.dialect: Dialect = database.dialect
        self._ready = False
        self._readying = threading.Lock()

    def ready(self) -> None:
        """Make sure the tables exist as this release defines them (once)."""
        if self._ready:
            return
        with self._readying:
            if not self._ready:  # another thread may have made them meanwhile
                self._make_tables()
                self._ready = True

    def _make_tables(self) -> None:
        # Under the schema lock: processes starting together create them once.
        with (
            translated(self.dialect),
            self.engine.connect() as connection,
            schema_lock(connection),
        ):
            sim_metadata.create_all(connection, checkfirst=True)
            _bring_up_to_date(connection)
            connection.commit()

    def compile(self, statement: sa.ClauseElement) -> Sql:
        return self.dialect.compile(statement)

    def locking(self, select: sa.Select[Any]) -> sa.Select[Any]:
        """``select`` taking row locks where the database has them."""
        return select.with_for_update() if self.dialect.name == "postgresql" else select

    @contextmanager
    def transaction(self) -> Iterator[Run]:
        self.ready()
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
        self.ready()
        with pooled_connection(self.engine, self.dialect) as connection:
            return list(connection.execute(sql.text, sql.params(values)).fetchall())


def _bring_up_to_date(connection: sa.Connection) -> None:
    """Rebuild the tables an earlier release made without the opening figures:
    what an account holds when this release first opens it is what it is
    taken to have been opened with. (That release's per-order tables,
    ``sim_cash_entries``, ``sim_position_holds`` and ``sim_applied_executions``,
    are left as they were: nothing reads them any more, and migration 0002
    reads the last one.)"""
    inspector = sa.inspect(connection)
    now = datetime.now(UTC).replace(tzinfo=None)
    if "opening_cash" not in _columns(inspector, "sim_accounts"):
        _rebuild(
            connection,
            sim_accounts,
            lambda old: {
                "user_id": old.c.user_id,
                "active": old.c.active,
                "cash": old.c.cash,
                "reserved": old.c.reserved,
                "opening_cash": old.c.cash,
                "opened_at": sa.literal(now, sa.DateTime()),
            },
        )
    if "opening_quantity" not in _columns(inspector, "sim_positions"):
        _rebuild(
            connection,
            sim_positions,
            lambda old: {
                "user_id": old.c.user_id,
                "symbol": old.c.symbol,
                "quantity": old.c.quantity,
                "opening_quantity": old.c.quantity,
            },
        )


def _columns(inspector: sa.Inspector, table: str) -> set[str]:
    return {column["name"] for column in inspector.get_columns(table)}


def _rebuild(
    connection: sa.Connection,
    table: sa.Table,
    copied: Callable[[sa.TableClause], dict[str, sa.ColumnElement[Any]]],
) -> None:
    """Make ``table`` anew (its columns, constraints and checks as this release
    defines them) and copy its rows over, each column as ``copied`` says."""
    kept = f"{table.name}_before_rebuild"
    connection.exec_driver_sql(f"CREATE TABLE {kept} AS SELECT * FROM {table.name}")
    table.drop(connection)
    table.create(connection)
    old = sa.table(kept, *(sa.column(name) for name in _columns(sa.inspect(connection), kept)))
    values = copied(old)
    connection.execute(table.insert().from_select(list(values), sa.select(*values.values())))
    connection.exec_driver_sql(f"DROP TABLE {kept}")
