"""The driver connections: statements and round trips counted, and SQLite's
writers serialised inside the process.

Every connection an engine of :class:`~order_adapters.sql.SqlDatabase` opens is
a thin subclass of the driver's (psycopg 3 or sqlite3) that counts what it
sends into the engine's :class:`StatementCounter`:

- a statement is one ``execute`` call;
- on psycopg, a round trip is a statement sent outside a pipeline, a
  pipeline's ``sync()`` or the end of a pipeline (which syncs);
- on SQLite there is no server: every statement is a call into the library and
  counts as one.

The counts are plain integers, updated without a lock: exact for one thread (the
tests and ``bench/sql.py``), approximate when threads share the engine.

    with database.counter.measure() as count:
        service.submit(command)
    count.statements, count.round_trips

SQLite lets one writer in at a time; a second one waiting for the lock sleeps
in SQLite's busy handler (1, 2, 5, 10 ... 100 ms between tries), which made the
slowest orders wait 100 times the median under 8 threads. So a SQLite
connection takes a lock of this process per database file where it sends
``BEGIN IMMEDIATE`` and gives it back once ``COMMIT`` or ``ROLLBACK`` has ended
the transaction: writers of one process queue on it and wake as soon as the
previous one commits. Writers of other processes still meet in SQLite's busy
handler (the connection's timeout). WAL is kept, so readers never wait.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

__all__ = ["Counted", "StatementCounter", "count_statements"]


@dataclass
class Counted:
    """What a :meth:`StatementCounter.measure` block sent (filled in at its end)."""

    statements: int = 0
    round_trips: int = 0


class StatementCounter:
    """Running totals of the statements and round trips of one engine."""

    __slots__ = ("round_trips", "statements")

    def __init__(self) -> None:
        self.statements = 0
        self.round_trips = 0

    @contextmanager
    def measure(self) -> Iterator[Counted]:
        """What the block sends, counted when it ends."""
        counted = Counted()
        statements, round_trips = self.statements, self.round_trips
        try:
            yield counted
        finally:
            counted.statements = self.statements - statements
            counted.round_trips = self.round_trips - round_trips


_writer_locks: dict[str, threading.Lock] = {}
_writer_locks_guard = threading.Lock()


def _writer_lock(database: str) -> threading.Lock | None:
    """The process's writer lock of the SQLite file ``database`` (None for a
    database private to its connection)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = os.path.realpath(database)
    with _writer_locks_guard:
        lock = _writer_locks.get(path)
        if lock is None:
            lock = _writer_locks[path] = threading.Lock()
        return lock


class _Sqlite(sqlite3.Connection):
    """sqlite3's connection, counted, its write transactions taking the
    process's writer lock of the file first."""

    counter: StatementCounter | None = None
    writer_lock: threading.Lock | None = None
    lock_timeout: float = 5.0
    _holding = False

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        counter = self.counter
        if counter is not None:
            counter.statements += 1
            counter.round_trips += 1
        lock = self.writer_lock
        if lock is None or not sql.startswith(("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")):
            return super().execute(sql, parameters)
        if sql.startswith("BEGIN"):
            if not self._holding:
                if not lock.acquire(timeout=self.lock_timeout):
                    raise sqlite3.OperationalError("database is locked (by this process)")
                self._holding = True
            try:
                return super().execute(sql, parameters)
            except BaseException:
                self._release_unless_open()
                raise
        try:
            return super().execute(sql, parameters)
        finally:
            self._release_unless_open()

    def _release_unless_open(self) -> None:
        if self._holding and not self.in_transaction:
            self._holding = False
            assert self.writer_lock is not None
            self.writer_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release_unless_open()

    def rollback(self) -> None:
        # The pool's reset on return: a transaction left open ends here.
        try:
            super().rollback()
        finally:
            self._release_unless_open()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._holding and self.writer_lock is not None:
                self._holding = False
                self.writer_lock.release()


def _counting_psycopg() -> type[Any]:
    import psycopg  # noqa: PLC0415  # the postgres extra: only when it is used

    class _Pipeline:
        __slots__ = ("_counter", "_pipeline")

        def __init__(self, pipeline: Any, counter: StatementCounter) -> None:
            self._pipeline = pipeline
            self._counter = counter

        def sync(self) -> None:
            self._counter.round_trips += 1
            self._pipeline.sync()

        def __getattr__(self, name: str) -> Any:
            return getattr(self._pipeline, name)

    class _CountingPsycopg(psycopg.Connection[Any]):
        counter: StatementCounter | None = None

        def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
            counter = self.counter
            if counter is not None:
                counter.statements += 1
                if self._pipeline is None:
                    counter.round_trips += 1
            return super().execute(query, params, **options)

        @contextmanager
        def pipeline(self) -> Iterator[Any]:
            counter = self.counter
            if counter is None or self._pipeline is not None:
                with super().pipeline() as pipeline:
                    yield pipeline
                return
            try:
                with super().pipeline() as pipeline:
                    yield _Pipeline(pipeline, counter)
            finally:
                counter.round_trips += 1  # leaving the pipeline syncs

    return _CountingPsycopg


def count_statements(engine: sa.Engine) -> StatementCounter:
    """The counter of ``engine``'s connections, installed on first call: call it
    before the engine connects (connections opened earlier are not counted)."""
    existing = engine.__dict__.get("_orders_statement_counter")
    if isinstance(existing, StatementCounter):
        return existing
    counter = StatementCounter()
    engine.__dict__["_orders_statement_counter"] = counter
    backend = engine.dialect.name
    if backend == "postgresql":
        connection_class = _counting_psycopg()

        def connect_psycopg(
            _dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]
        ) -> Any:
            connection = connection_class.connect(*cargs, **cparams)
            connection.counter = counter
            return connection

        sa.event.listen(engine, "do_connect", connect_psycopg)
    elif backend == "sqlite":
        database = engine.url.database or ""

        def connect_sqlite(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
            connection = sqlite3.connect(*cargs, **{"factory": _Sqlite, **cparams})
            if isinstance(connection, _Sqlite):
                connection.counter = counter
                connection.writer_lock = _writer_lock(database)
                connection.lock_timeout = float(cparams.get("timeout", 5.0))
            return connection

        sa.event.listen(engine, "do_connect", connect_sqlite)
    return counter
