"""A pooled driver connection, the writes buffered on it, and the translation of
driver errors into the library's.

Connections run in autocommit. A unit of work's reads run outside any
transaction (each sees committed data, as READ COMMITTED does), so a read never
pays for a BEGIN. Writes are buffered and flushed at commit in one transaction;
a read issued while writes are buffered first flushes them into an open
transaction so it sees them. A unit that locks a user (a buffered upsert of the
user's row on PostgreSQL, BEGIN IMMEDIATE on SQLite) makes its next read begin
the transaction, so every read after the lock sees what the previous holder
committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from order_adapters.sql.dialects import Conflict, DeferredConflict, Dialect, Sql, Write
from order_adapters.sql.statements import Statements
from order_core.errors import DependencyUnavailable, OrderError

__all__ = ["Session", "pooled_connection", "translated"]


@contextmanager
def translated(
    dialect: Dialect, connection: Any = None, engine: sa.Engine | None = None
) -> Iterator[None]:
    """Re-raise driver and pool errors as the library's (``raise ... from``): a
    lost connection or a timeout is :class:`DependencyUnavailable`. A pooled
    connection that failed that way is discarded, not reused; when it was
    broken (the server went away or ended it), ``engine``'s whole pool is
    replaced, as its other idle connections most likely went with it."""
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
        if isinstance(translation, DependencyUnavailable) and connection is not None:
            broken = getattr(connection.driver_connection, "broken", False)
            if discard:
                connection.invalidate()
            if broken and engine is not None:
                engine.dispose(close=False)  # connections in use finish, then close
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
        with translated(dialect, pooled, engine):
            yield pooled.driver_connection
    finally:
        pooled.close()


class Session:
    """One unit of work's connection, its buffered writes and its transaction.

    Reads run in autocommit until the unit writes or asks for a transaction
    (:meth:`begin_soon`, :meth:`run`); a read issued while writes are buffered
    sends them first, with a BEGIN, in the same round trip where the driver
    can, and from then on everything runs in that transaction until
    :meth:`commit` or :meth:`rollback`."""

    __slots__ = (
        "_begin_pending",
        "_connection",
        "_reads_along",
        "dialect",
        "engine",
        "in_transaction",
        "locked",
        "on_lock",
        "sql",
        "transactions",
        "writes",
    )

    def __init__(self, engine: sa.Engine, dialect: Dialect, statements: Statements) -> None:
        self.engine = engine
        self.dialect = dialect
        self.sql = statements
        self.writes: list[Write] = []
        self.in_transaction = False
        #: The users this transaction locks (:meth:`lock`): once a read has begun
        #: it, nobody else moves their orders or money until it ends.
        self.locked: set[UUID] = set()
        #: Transactions ended so far: what was read under a lock holds while
        #: this number stays the same.
        self.transactions = 0
        #: Told of every user :meth:`lock` locks (the unit's ledger, which may
        #: then read the user's account along with the lock).
        self.on_lock: Callable[[UUID], None] | None = None
        self._reads_along: list[tuple[Write, Callable[[list[Any]], None]]] = []
        self._begin_pending = False
        self._connection: Any = None

    @property
    def driver(self) -> Any:
        """The psycopg or sqlite3 connection, checked out of the pool on first use
        (and again after a failure discarded it, unless a transaction was open
        on it: that transaction is gone)."""
        connection = self._connection
        if connection is not None and not connection.is_valid:
            if self.in_transaction:
                raise DependencyUnavailable("database", "the connection was lost mid-transaction")
            self._connection = connection = None
        if connection is None:
            self._connection = connection = _checkout(self.engine, self.dialect)
        return connection.driver_connection

    def write(self, sql: Sql, values: Mapping[str, Any], conflict: Conflict | None = None) -> None:
        """Buffer a write; ``conflict`` is raised (at the flush that sends it) when
        it changes no row."""
        self.writes.append(Write(sql, values, conflict))

    def lock(self, user_id: UUID, sql: Sql | None, values: Mapping[str, Any]) -> None:
        """Lock ``user_id`` for the rest of the transaction: with the write
        ``sql`` (a row lock, sent with the next statement) or, when None, with
        the transaction itself (SQLite's BEGIN IMMEDIATE serialises writers)."""
        if sql is None:
            self.begin_soon()
        else:
            self.write(sql, values)
        self.locked.add(user_id)
        if self.on_lock is not None:
            self.on_lock(user_id)

    def read_along(
        self, sql: Sql, values: Mapping[str, Any], receive: Callable[[list[Any]], None]
    ) -> None:
        """Send the read ``sql`` with the next statement that flushes buffered
        writes (in the same round trip, after them) and hand its rows to
        ``receive``; dropped if the transaction ends first (a commit sends no
        read)."""
        self._reads_along.append((Write(sql, values), receive))

    def drop_read_along(self, receive: Callable[[list[Any]], None]) -> None:
        """Not send the read along that hands its rows to ``receive`` (it is
        about to be run on its own)."""
        self._reads_along = [(read, to) for read, to in self._reads_along if to is not receive]

    def holds_lock(self, user_id: UUID) -> bool:
        """Whether the open transaction has locked ``user_id`` (what it reads
        about the user now stays true until it ends)."""
        return self.in_transaction and user_id in self.locked

    def begin_soon(self) -> None:
        """Make the next statement run in a write transaction (begun then, with
        whatever is buffered): on SQLite, BEGIN IMMEDIATE is the writers' lock."""
        if not self.in_transaction:
            self._begin_pending = True

    def fetch_one(self, sql: Sql, values: Mapping[str, Any]) -> Any:
        return self._execute(sql, values).fetchone()

    def fetch_all(self, sql: Sql, values: Mapping[str, Any]) -> list[Any]:
        return list(self._execute(sql, values).fetchall())

    def run(self, sql: Sql, values: Mapping[str, Any]) -> int:
        """Run a write now, in the transaction (begun if need be, after the
        buffered writes): how many rows it changed."""
        self.begin_soon()
        return int(self._execute(sql, values).rowcount)

    def commit(self) -> None:
        writes, self.writes = self.writes, []
        begin = not self.in_transaction
        self._ended()
        if not writes and begin:
            return
        driver = self.driver
        try:
            with translated(self.dialect, self._connection, self.engine):
                self._flush(driver, writes, begin=begin, commit=True)
        except DeferredConflict as lost:
            raise lost.make() from None

    def rollback(self) -> None:
        self.writes = []
        was_open = self.in_transaction
        self._ended()
        connection = self._connection
        if was_open and connection is not None and connection.is_valid:  # else it died with it
            with translated(self.dialect, self._connection, self.engine):
                self.driver.execute("ROLLBACK")

    def close(self) -> None:
        """Roll back what is open and give the connection back to the pool."""
        try:
            self.rollback()
        finally:
            if self._connection is not None:
                connection, self._connection = self._connection, None
                connection.close()

    def _execute(self, sql: Sql, values: Mapping[str, Any]) -> Any:
        """``sql``'s cursor: run alone when nothing is buffered or pending, else
        after the buffered writes (and a BEGIN, when none is open yet)."""
        if not self.writes and not self._begin_pending:
            driver = self.driver  # checked out first: a failure must see its connection
            with translated(self.dialect, self._connection, self.engine):
                return driver.execute(sql.text, sql.params(values))
        writes, self.writes = self.writes, []
        along, self._reads_along = self._reads_along, []
        begin = not self.in_transaction
        self._begin_pending = False
        driver = self.driver
        try:
            with translated(self.dialect, self._connection, self.engine):
                self.in_transaction = True
                try:
                    *read_along, cursor = self._flush(
                        driver,
                        writes,
                        begin=begin,
                        commit=False,
                        then=[*(read for read, _ in along), Write(sql, values)],
                    )
                    for (_, receive), rows in zip(along, read_along, strict=True):
                        receive(rows.fetchall())
                except BaseException:
                    self._ended()  # the failed flush rolled back
                    raise
        except DeferredConflict as lost:
            raise lost.make() from None
        return cursor

    def _ended(self) -> None:
        """The transaction is over (or about to be): its locks with it."""
        self.in_transaction = False
        self._begin_pending = False
        self.locked.clear()
        self._reads_along.clear()
        self.transactions += 1

    def _flush(
        self,
        driver: Any,
        writes: list[Write],
        *,
        begin: bool,
        commit: bool,
        then: Sequence[Write] = (),
    ) -> list[Any]:
        try:
            return self.dialect.flush(driver, writes, begin=begin, commit=commit, then=then)
        except BaseException as error:
            if self.dialect.discards_connection_after_failed_flush and self._connection:
                connection = self._connection
                if getattr(connection.driver_connection, "broken", False):
                    self._connection = None
                    self.engine.dispose(close=False)  # the server went away: all of them
                    connection.invalidate()
                elif not self.dialect.recover_after_failed_flush(driver, error):
                    self._connection = None
                    connection.invalidate()  # the next use checks out a fresh one
            raise
