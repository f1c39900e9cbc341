"""A pooled driver connection, the writes buffered on it, and the translation of
driver errors into the library's.

Connections run in autocommit. A unit of work's reads run outside any
transaction (each sees committed data, as READ COMMITTED does), so a read never
pays for a BEGIN. Writes are buffered and flushed at commit in one transaction;
a read issued while writes are buffered first flushes them into an open
transaction so it sees them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from order_adapters.sql.dialects import Dialect, Sql, Write
from order_adapters.sql.statements import Statements
from order_core.errors import DependencyUnavailable, OrderError

__all__ = ["Session", "pooled_connection", "translated"]


@contextmanager
def translated(dialect: Dialect, connection: Any = None) -> Iterator[None]:
    """Re-raise driver and pool errors as the library's (``raise ... from``): a
    lost connection or a timeout is :class:`DependencyUnavailable`. A pooled
    connection that failed that way is discarded, not reused."""
    try:
        yield
    except OrderError:
        raise
    except sa.exc.TimeoutError as error:
        raise DependencyUnavailable("database", "no connection free in the pool") from error
    except sa.exc.DBAPIError as error:
        raise DependencyUnavailable("database", _reason(error.orig or error)) from error
    except Exception as error:
        translation = dialect.translate(error)
        if translation is None:
            raise
        # A failed flush may have discarded the connection already.
        discard = connection is not None and connection.is_valid
        if isinstance(translation, DependencyUnavailable) and discard:
            connection.invalidate()
        raise translation from error


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _checkout(engine: sa.Engine, dialect: Dialect) -> Any:
    """A connection out of the pool; a pool timeout or a failed connect translated."""
    with translated(dialect):
        return engine.raw_connection()


@contextmanager
def pooled_connection(engine: sa.Engine, dialect: Dialect) -> Iterator[Any]:
    """The driver's connection (psycopg or sqlite3) of one checked out of
    ``engine``'s pool for the block, in autocommit: a block that needs a
    transaction sends BEGIN (``dialect.begin``) and COMMIT or ROLLBACK itself.
    Errors raised in the block are translated as :func:`translated` does; a
    connection lost that way is discarded, any other goes back to the pool."""
    pooled = _checkout(engine, dialect)
    try:
        with translated(dialect, pooled):
            yield pooled.driver_connection
    finally:
        pooled.close()


class Session:
    """One unit of work's connection and buffered writes."""

    __slots__ = ("_connection", "dialect", "engine", "in_transaction", "sql", "writes")

    def __init__(self, engine: sa.Engine, dialect: Dialect, statements: Statements) -> None:
        self.engine = engine
        self.dialect = dialect
        self.sql = statements
        self.writes: list[Write] = []
        self.in_transaction = False
        self._connection: Any = None

    @property
    def driver(self) -> Any:
        """The psycopg or sqlite3 connection, checked out of the pool on first use."""
        if self._connection is None:
            self._connection = _checkout(self.engine, self.dialect)
        return self._connection.driver_connection

    def write(
        self, sql: Sql, values: Mapping[str, Any], conflict: OrderError | None = None
    ) -> None:
        self.writes.append(Write(sql, values, conflict))

    def fetch_one(self, sql: Sql, values: Mapping[str, Any]) -> Any:
        self._flush_for_read()
        with translated(self.dialect, self._connection):
            return self.driver.execute(sql.text, sql.params(values)).fetchone()

    def fetch_all(self, sql: Sql, values: Mapping[str, Any]) -> list[Any]:
        self._flush_for_read()
        with translated(self.dialect, self._connection):
            return list(self.driver.execute(sql.text, sql.params(values)).fetchall())

    def commit(self) -> None:
        writes, self.writes = self.writes, []
        if not writes and not self.in_transaction:
            return
        driver = self.driver
        with translated(self.dialect, self._connection):
            if self.in_transaction:
                self.in_transaction = False
                self._flush(driver, writes, commit=False)
                driver.execute("COMMIT")
            else:
                self._flush(driver, writes, commit=True)

    def rollback(self) -> None:
        self.writes = []
        if self.in_transaction:
            self.in_transaction = False
            with translated(self.dialect, self._connection):
                self.driver.execute("ROLLBACK")

    def close(self) -> None:
        """Roll back what is open and give the connection back to the pool."""
        try:
            self.rollback()
        finally:
            if self._connection is not None:
                connection, self._connection = self._connection, None
                connection.close()

    def _flush_for_read(self) -> None:
        if not self.writes:
            return
        writes, self.writes = self.writes, []
        driver = self.driver
        with translated(self.dialect, self._connection):
            if not self.in_transaction:
                self.dialect.begin(driver)
                self.in_transaction = True
            try:
                self._flush(driver, writes, commit=False)
            except BaseException:
                self.in_transaction = False  # the failed flush rolled back
                raise

    def _flush(self, driver: Any, writes: list[Write], *, commit: bool) -> None:
        try:
            self.dialect.flush(driver, writes, commit=commit)
        except BaseException:
            if self.dialect.discards_connection_after_failed_flush and self._connection:
                connection, self._connection = self._connection, None
                connection.invalidate()  # the next use checks out a fresh one
            raise
