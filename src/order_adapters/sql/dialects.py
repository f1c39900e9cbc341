"""What differs between PostgreSQL (psycopg 3) and SQLite: how values are stored,
how SQL is compiled, how a batch of writes is committed, and what the driver's
errors mean.

Statements are SQLAlchemy Core constructs (schema-checked), compiled once per
dialect, and run on the driver connection. Two reasons, both measured (see
docs/decisions.md): SQLAlchemy's execution layer costs more per statement than
a loopback round trip, and it defeats psycopg's pipeline mode, which sends a
whole transaction in one round trip.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from order_adapters import wire
from order_core.decimals import shift_point
from order_core.errors import (
    ConcurrencyConflict,
    DependencyUnavailable,
    IdempotencyRecordExists,
    OrderError,
)

__all__ = [
    "Conflict",
    "DeferredConflict",
    "Dialect",
    "PostgresDialect",
    "SqliteDialect",
    "Sql",
    "Write",
    "dialect_for",
]

Params = Mapping[str, Any]

#: What a checked write raises when it changes no row: the error itself, or a
#: function making it once the transaction is over (it may read the database).
Conflict = OrderError | Callable[[], OrderError]


class Sql:
    """A compiled statement and the values of the literals it carries (a
    constant status, an IN list), which go along with every execution."""

    __slots__ = ("constants", "text")

    def __init__(self, text: str, constants: dict[str, Any]) -> None:
        self.text = text
        self.constants = constants

    def params(self, values: Params) -> dict[str, Any]:
        return {**self.constants, **values} if self.constants else dict(values)


def _compile(statement: sa.ClauseElement, dialect: sa.Dialect) -> Sql:
    compiled = statement.compile(dialect=dialect)
    constants = {name: value for name, value in compiled.params.items() if value is not None}
    return Sql(str(compiled), constants)


class Write:
    """One statement of a unit of work's flush. ``conflict`` is the error to raise
    when it changes no row (a versioned update that lost its race, a guarded
    balance that would go below zero)."""

    __slots__ = ("conflict", "params", "sql")

    def __init__(self, sql: Sql, values: Params, conflict: Conflict | None = None) -> None:
        self.sql = sql.text
        self.params = sql.params(values)
        self.conflict = conflict


class DeferredConflict(Exception):
    """A checked write changed no row, and its error is made (by ``make``) once
    the transaction has been rolled back: raised by a flush, turned into that
    error by the session."""

    def __init__(self, make: Callable[[], OrderError]) -> None:
        super().__init__("a checked write changed no row")
        self.make = make


def _lost(failed: Sequence[Write]) -> Exception:
    """What to raise when the checked writes ``failed`` changed no row: a lost
    race on an order first (it explains the rest: a ledger movement guarded by
    what the winner already moved), else the first failure."""
    conflicts = [write.conflict for write in failed if write.conflict is not None]
    conflict = next((c for c in conflicts if isinstance(c, ConcurrencyConflict)), conflicts[0])
    return conflict if isinstance(conflict, OrderError) else DeferredConflict(conflict)


class Dialect(Protocol):
    name: str
    #: Whether a connection whose flush failed must be discarded, not pooled.
    discards_connection_after_failed_flush: bool
    #: Whether a write transaction alone serialises writers (SQLite's BEGIN
    #: IMMEDIATE): then no row needs locking to serialise a user's transactions.
    serialises_writers: bool

    def compile(self, statement: sa.ClauseElement) -> Sql: ...

    def recover_after_failed_flush(self, driver: Any, error: BaseException) -> bool:
        """Make ``driver``'s connection usable after a flush failed with
        ``error`` (and was rolled back); False: it must be discarded (asked
        only where the flag above is set)."""
        ...

    def money(self, value: Decimal | None) -> Any: ...

    def money_from(self, raw: Any) -> Decimal | None: ...

    def time(self, value: datetime | None) -> Any: ...

    def time_from(self, raw: Any) -> datetime | None: ...

    def uuid(self, value: UUID | None) -> Any: ...

    def uuid_from(self, raw: Any) -> UUID | None: ...

    def json(self, value: Any) -> Any:
        """A parameter for a JSON column holding ``value``, a document of
        :mod:`order_adapters.wire` (written by its encoder)."""
        ...

    def json_from(self, raw: Any) -> Any:
        """The document a JSON column held, its numbers exact."""
        ...

    def many(self, values: Sequence[Any]) -> Any:
        """A list parameter for :func:`any_of`."""
        ...

    def begin(self, connection: Any) -> None:
        """Start a transaction that may write."""
        ...

    def flush(
        self,
        connection: Any,
        writes: Sequence[Write],
        *,
        begin: bool,
        commit: bool,
        then: Sequence[Write] = (),
    ) -> list[Any]:
        """Run ``writes`` (after a BEGIN when ``begin`` is set), then the
        statements ``then``, then COMMIT when ``commit`` is set; all in one round
        trip where the driver can. Raise a write's ``conflict`` (or a
        :class:`DeferredConflict`) when it changed nothing. Returns the cursors
        of ``then``. On failure the transaction is rolled back."""
        ...

    def translate(self, error: Exception) -> OrderError | None:
        """The library's error for a driver error, or None if it is a bug."""
        ...


def _naive_utc(value: datetime) -> datetime:
    # TIMESTAMP columns (the seed's) hold UTC without a zone.
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the order service stores UTC instants")
    return value.astimezone(UTC).replace(tzinfo=None)


class PostgresDialect:
    """psycopg 3: native UUID, NUMERIC and JSONB; pipelined flushes. JSONB is
    written and read by the wire codec (see :func:`dialect_for`)."""

    name = "postgresql"
    # psycopg counts the statements queued behind a failed one in a pipeline as
    # executed; one reaching its prepare threshold there is recorded as prepared
    # though the server never parsed it, and its next use on that connection
    # fails ("prepared statement _pg3_N does not exist"). See
    # recover_after_failed_flush.
    discards_connection_after_failed_flush = True
    serialises_writers = False
    _deallocations = itertools.count()

    def __init__(self) -> None:
        # psycopg comes with the postgres extra: imported only when it is used.
        from psycopg.types.json import Jsonb  # noqa: PLC0415

        self._jsonb = Jsonb
        self._sa_dialect = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]

    def recover_after_failed_flush(self, driver: Any, error: BaseException) -> bool:
        """Make a connection whose pipelined flush the server refused (a checked
        write that changed no row, a constraint) usable again, instead of
        opening a new one (a new server process, about 10 ms of CPU): the flush
        rolled back; DEALLOCATE ALL's result makes psycopg forget what it thinks
        is prepared. Its text is new each time, so psycopg looks at its result
        (it does not for a statement it has seen). Any other failure (a timeout,
        a lost link, an interrupt) discards the connection."""
        from psycopg import errors  # noqa: PLC0415  # the postgres extra, as in __init__

        if not isinstance(error, DeferredConflict | OrderError | errors.IntegrityError):
            return False
        try:
            driver.execute(f"DEALLOCATE ALL /* {next(self._deallocations)} */", prepare=False)
        except Exception:  # any failure here: a fresh connection instead
            return False
        return True

    def compile(self, statement: sa.ClauseElement) -> Sql:
        return _compile(statement, self._sa_dialect)

    def money(self, value: Decimal | None) -> Any:
        return value

    def money_from(self, raw: Any) -> Decimal | None:
        return raw  # type: ignore[no-any-return]  # NUMERIC(18, 8) arrives as an exact Decimal

    def time(self, value: datetime | None) -> Any:
        return None if value is None else _naive_utc(value)

    def time_from(self, raw: Any) -> datetime | None:
        return None if raw is None else raw.replace(tzinfo=UTC)

    def uuid(self, value: UUID | None) -> Any:
        return value

    def uuid_from(self, raw: Any) -> UUID | None:
        return raw  # type: ignore[no-any-return]

    def json(self, value: Any) -> Any:
        return None if value is None else self._jsonb(value, wire.dumps)

    def json_from(self, raw: Any) -> Any:
        return raw  # psycopg loads JSONB, with wire.loads (see _read_json_exactly)

    def many(self, values: Sequence[Any]) -> Any:
        return list(values)

    def begin(self, connection: Any) -> None:
        connection.execute("BEGIN")

    def flush(
        self,
        connection: Any,
        writes: Sequence[Write],
        *,
        begin: bool,
        commit: bool,
        then: Sequence[Write] = (),
    ) -> list[Any]:
        import psycopg  # noqa: PLC0415  # the postgres extra, as in __init__

        failed: psycopg.Error | None = None
        try:
            with connection.pipeline():
                try:
                    if begin:
                        connection.execute("BEGIN")
                    for number, write in enumerate(writes):
                        if write.conflict is None:
                            connection.execute(write.sql, write.params)
                        else:
                            # Checked in the server: a write that changes no row
                            # fails the transaction, so the COMMIT can go in the
                            # same round trip (it then rolls back).
                            connection.execute(_checked(write.sql, number), write.params)
                    results = [connection.execute(read.sql, read.params) for read in then]
                    if commit:
                        connection.execute("COMMIT")
                except psycopg.Error as error:
                    # A statement failed (seen by any execute or the sync): raise it
                    # once the pipeline is closed. Raised out of the block, psycopg
                    # closes the aborted pipeline logging its own error at WARNING
                    # ("error ignored terminating <psycopg.Pipeline ...>: pipeline
                    # aborted"), which a correctly answered duplicate would print.
                    failed = error
            if failed is not None:
                raise failed
            return results
        except BaseException as error:
            _rollback_quietly(connection)
            lost = _unchanged_write(failed or error)
            if lost is not None:
                raise _lost([writes[lost]]) from None
            if failed is not None and error is not failed:
                raise failed from None  # closing the aborted pipeline failed as well
            raise

    def translate(self, error: Exception) -> OrderError | None:
        import psycopg  # noqa: PLC0415  # the postgres extra, as above
        from psycopg import errors  # noqa: PLC0415

        if isinstance(error, errors.UniqueViolation):
            constraint = error.diag.constraint_name or ""
            if constraint.startswith("order_idempotency"):
                return IdempotencyRecordExists(_key_of(error.diag.message_detail))
            if constraint.startswith("orders"):
                return ConcurrencyConflict(_uuid_of(error.diag.message_detail), 0)
            return None
        if isinstance(error, psycopg.OperationalError | errors.QueryCanceled):
            return DependencyUnavailable("database", _first_line(error))
        if isinstance(error, psycopg.InterfaceError) and "closed" in str(error):
            return DependencyUnavailable("database", _first_line(error))
        return None


#: Raised by the database (migration 0003's function) when a checked write
#: changed no row; the message names the write's place in its flush.
_UNCHANGED = re.compile(r"^checked write (\d+) changed no row")


def _checked(sql: str, number: int) -> str:
    """``sql`` (an UPDATE, INSERT or DELETE) made to fail when it changes no row."""
    return (
        f"WITH changed AS ({sql} RETURNING 1) "
        f"SELECT order_write_changed((SELECT count(*) FROM changed), {number})"
    )


def _unchanged_write(error: BaseException) -> int | None:
    """The place of the checked write ``error`` says changed no row, if it says so."""
    diag = getattr(error, "diag", None)
    if diag is None or diag.sqlstate != "P0001":
        return None
    found = _UNCHANGED.match(diag.message_primary or "")
    return None if found is None else int(found.group(1))


class SqliteDialect:
    """sqlite3: money as integers scaled by 10^8, UUIDs as 32 hex digits,
    timestamps as fixed-width ISO text (ordered as text), JSON as text."""

    name = "sqlite"
    discards_connection_after_failed_flush = False
    serialises_writers = True
    _SCALE = 8
    _TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # what SQLAlchemy's DateTime writes on SQLite

    def __init__(self) -> None:
        self._sa_dialect = sqlite.pysqlite.dialect(paramstyle="named")

    def recover_after_failed_flush(self, driver: Any, error: BaseException) -> bool:  # noqa: ARG002
        return True  # never asked: a failed SQLite flush leaves the connection as it was

    def compile(self, statement: sa.ClauseElement) -> Sql:
        return _compile(statement, self._sa_dialect)

    def money(self, value: Decimal | None) -> Any:
        return None if value is None else int(shift_point(value, self._SCALE))

    def money_from(self, raw: Any) -> Decimal | None:
        return None if raw is None else shift_point(Decimal(raw), -self._SCALE)

    def time(self, value: datetime | None) -> Any:
        return None if value is None else _naive_utc(value).strftime(self._TIME_FORMAT)

    def time_from(self, raw: Any) -> datetime | None:
        return None if raw is None else datetime.fromisoformat(raw).replace(tzinfo=UTC)

    def uuid(self, value: UUID | None) -> Any:
        return None if value is None else value.hex

    def uuid_from(self, raw: Any) -> UUID | None:
        return None if raw is None else UUID(hex=raw)

    def json(self, value: Any) -> Any:
        return None if value is None else wire.dumps(value).decode()

    def json_from(self, raw: Any) -> Any:
        return None if raw is None else wire.loads(raw)

    def many(self, values: Sequence[Any]) -> Any:
        return json.dumps(list(values))  # read back with json_each()

    def begin(self, connection: Any) -> None:
        # IMMEDIATE takes the write lock now: two writers wait their turn (for up
        # to the busy timeout) instead of failing on a lock upgrade later.
        connection.execute("BEGIN IMMEDIATE")

    def flush(
        self,
        connection: Any,
        writes: Sequence[Write],
        *,
        begin: bool,
        commit: bool,
        then: Sequence[Write] = (),
    ) -> list[Any]:
        try:
            if begin:
                self.begin(connection)
            lost: list[Write] = []
            for write in writes:
                try:
                    cursor = connection.execute(write.sql, write.params)
                except sqlite3.Error:
                    if lost:  # the transaction is lost already: say why
                        raise _lost(lost) from None
                    raise
                if write.conflict is not None and cursor.rowcount != 1:
                    lost.append(write)  # the rest may tell of a lost race: run them too
            if lost:
                raise _lost(lost)
            results = [connection.execute(read.sql, read.params) for read in then]
            if commit:
                connection.execute("COMMIT")
            return results
        except BaseException:
            _rollback_quietly(connection)
            raise

    def translate(self, error: Exception) -> OrderError | None:
        if isinstance(error, sqlite3.IntegrityError):
            text = str(error)
            if "UNIQUE constraint failed: order_idempotency" in text:
                return IdempotencyRecordExists("")
            if "UNIQUE constraint failed: orders.id" in text:
                return ConcurrencyConflict(UUID(int=0), 0)
            return None
        if isinstance(error, sqlite3.OperationalError):
            # "database is locked" (busy), "unable to open database file", I/O.
            return DependencyUnavailable("database", _first_line(error))
        if isinstance(error, sqlite3.DatabaseError) and error.sqlite_errorname in (
            "SQLITE_CORRUPT",  # "database disk image is malformed"
            "SQLITE_NOTADB",  # "file is not a database"
        ):
            return DependencyUnavailable("database", _first_line(error))
        return None


def _rollback_quietly(connection: Any) -> None:
    # Nothing was open, or the link is gone: either way the transaction is over.
    with contextlib.suppress(Exception):
        connection.execute("ROLLBACK")


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _key_of(detail: str | None) -> str:
    # "Key (idempotency_key)=(u:k) already exists."
    if detail and "=(" in detail:
        return detail.split("=(", 1)[1].rsplit(")", 1)[0]
    return ""


def _uuid_of(detail: str | None) -> UUID:
    try:
        return UUID(_key_of(detail))
    except ValueError:
        return UUID(int=0)


def _read_json_exactly(connection: Any, _record: Any) -> None:
    # psycopg reads JSON numbers as floats by default; wire.loads reads them as
    # exact Decimals.
    from psycopg.types.json import set_json_loads  # noqa: PLC0415  # the postgres extra

    set_json_loads(wire.loads, connection)


def dialect_for(engine: sa.Engine) -> Dialect:
    """The dialect of ``engine``. On PostgreSQL, every connection the engine
    opens from now on reads JSON through the wire codec: call this before the
    engine connects (as :class:`~order_adapters.sql.SqlDatabase` does)."""
    if engine.dialect.name == "postgresql":
        if not sa.event.contains(engine, "connect", _read_json_exactly):
            sa.event.listen(engine, "connect", _read_json_exactly)
        return PostgresDialect()
    if engine.dialect.name == "sqlite":
        return SqliteDialect()
    raise ValueError(f"unsupported database {engine.dialect.name!r}: use PostgreSQL or SQLite")
