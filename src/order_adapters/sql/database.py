"""``SqlDatabase``: the engine and everything built on it, from a URL."""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from order_adapters.settings import DatabaseSettings
from order_adapters.sql.dialects import dialect_for
from order_adapters.sql.driver import StatementCounter, count_statements
from order_adapters.sql.idempotency import SqlIdempotencyStore
from order_adapters.sql.outbox import SqlOutbox
from order_adapters.sql.session import Session
from order_adapters.sql.statements import Statements
from order_adapters.sql.unit_of_work import LedgerFactory, SqlUnitOfWork

__all__ = ["SqlDatabase"]


class SqlDatabase:
    """Units of work, the outbox relay's view and the idempotency store over one
    PostgreSQL or SQLite database. Nothing connects until first used."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = dialect_for(engine)
        #: Statements and round trips sent by this database's connections
        #: (:mod:`order_adapters.sql.driver`).
        self.counter: StatementCounter = count_statements(engine)
        self.statements = Statements.build(self.dialect)
        self.outbox = SqlOutbox(engine, self.dialect, self.statements)
        self.idempotency = SqlIdempotencyStore(engine, self.dialect, self.statements)
        self._ledger: LedgerFactory | None = None

    @classmethod
    def from_url(cls, url: str, settings: DatabaseSettings | None = None) -> SqlDatabase:
        """``postgresql+psycopg://user@host/db`` or ``sqlite:///path/to/file.db``,
        with the pool and timeouts of ``settings`` (the defaults allow 25
        connections, as the seed's service does)."""
        return cls(create_engine(url, settings or DatabaseSettings()))

    def attach_ledger(self, factory: LedgerFactory) -> None:
        """Give every unit of work from now on a ledger: ``factory`` makes it
        from the unit's :class:`Session` (its connection and transaction).
        Told once, at wiring; a unit of work without one refuses ``.ledger``."""
        self._ledger = factory

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(Session(self.engine, self.dialect, self.statements), self._ledger)

    __call__ = unit_of_work

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def create_engine(url: str, settings: DatabaseSettings) -> sa.Engine:
    """An engine whose connections run in autocommit: the units of work send
    BEGIN and COMMIT themselves, only when they write."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ValueError(
                f"use the psycopg 3 driver: postgresql+psycopg://..., not {parsed.drivername}"
            )
        engine = sa.create_engine(
            parsed,
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_timeout=settings.pool_timeout,
            connect_args={
                "connect_timeout": max(1, round(settings.connect_timeout)),
                "options": f"-c statement_timeout={round(settings.statement_timeout * 1000)}",
            },
        )
        sa.event.listen(engine, "connect", _autocommit_postgres)
        return engine
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            parsed,
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_timeout=settings.pool_timeout,
            connect_args={"timeout": settings.statement_timeout, "check_same_thread": False},
        )
        sa.event.listen(engine, "connect", _prepare_sqlite)
        return engine
    raise ValueError(
        f"unsupported database URL {url!r}: use postgresql+psycopg://... or sqlite:///..."
    )


def _autocommit_postgres(connection: Any, _record: Any) -> None:
    connection.autocommit = True


def _prepare_sqlite(connection: Any, _record: Any) -> None:
    connection.isolation_level = None  # autocommit: BEGIN IMMEDIATE is sent explicitly
    _use_wal(connection)  # readers never wait for the writer
    connection.execute("PRAGMA synchronous=FULL")  # durable at commit, like the server
    connection.execute("PRAGMA foreign_keys=ON")


def _use_wal(connection: sqlite3.Connection, attempts: int = 100) -> None:
    """Switch the file to WAL (it stays so). The switch does not wait on the
    busy timeout: processes opening a new file together retry it briefly."""
    for attempt in range(attempts):
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.02)


if TYPE_CHECKING:
    from order_core.ports import IdempotencyStore, Outbox, UnitOfWorkFactory

    def _implements(database: SqlDatabase) -> tuple[UnitOfWorkFactory, Outbox, IdempotencyStore]:
        return database, database.outbox, database.idempotency
