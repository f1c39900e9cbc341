"""The SQL backends (SQLite and PostgreSQL) for the contract suites.

Each test gets empty tables: a copy of a migrated SQLite file, or this run's own
PostgreSQL database truncated. Idempotency records may name an order (a foreign
key, as in the seed), so the order the shared test receipts point to exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from order_adapters.sql import SqlDatabase
from order_core.ports import IdempotencyStore
from order_core.values import OrderStatus
from tests.backends.store import LedgerStore, Store
from tests.contract.factories import T0, make_order, receipt
from tests.sql_databases import empty_postgres, fresh_sqlite

_REFERENCED = receipt().order_id


def _with_referenced_order(database: SqlDatabase) -> SqlDatabase:
    order = make_order(symbol="ZZZZ", at=T0 - timedelta(days=30), status=OrderStatus.EXECUTED)
    order.id = _REFERENCED
    order.user_id = order.user_id.__class__(int=0)
    order.position_applied_at = order.created_at  # no work left on it: recovery skips it
    with database.unit_of_work() as uow:
        uow.orders.add(order)
        uow.commit()
    return database


@contextmanager
def _opened(database: SqlDatabase) -> Iterator[SqlDatabase]:
    try:
        yield _with_referenced_order(database)
    finally:
        database.dispose()


@contextmanager
def sqlite_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    template = request.getfixturevalue("sqlite_template")
    directory = request.getfixturevalue("tmp_path")
    with _opened(fresh_sqlite(template, directory)) as database:
        yield Store(database, database.outbox, database.idempotency)


@contextmanager
def postgres_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    with _opened(empty_postgres(request.getfixturevalue("postgres_url"))) as database:
        yield Store(database, database.outbox, database.idempotency)


@contextmanager
def sqlite_idempotency(request: pytest.FixtureRequest) -> Iterator[IdempotencyStore]:
    with sqlite_store(request) as store:
        yield store.idempotency


@contextmanager
def postgres_idempotency(request: pytest.FixtureRequest) -> Iterator[IdempotencyStore]:
    with postgres_store(request) as store:
        yield store.idempotency


STORES = {"sqlite": sqlite_store, "postgres": postgres_store}
IDEMPOTENCY_STORES = {"sqlite": sqlite_idempotency, "postgres": postgres_idempotency}


def _with_ledger(database: SqlDatabase) -> LedgerStore:
    from order_adapters.simulated.sql_ledger import SqlLedger  # noqa: PLC0415

    ledger = SqlLedger(database)
    database.attach_ledger(ledger.within)
    return LedgerStore(unit_of_work=database, controls=ledger)


@contextmanager
def sqlite_ledger(request: pytest.FixtureRequest) -> Iterator[LedgerStore]:
    template = request.getfixturevalue("sqlite_template")
    database = fresh_sqlite(template, request.getfixturevalue("tmp_path"))
    try:
        yield _with_ledger(database)
    finally:
        database.dispose()


@contextmanager
def postgres_ledger(request: pytest.FixtureRequest) -> Iterator[LedgerStore]:
    from order_adapters.simulated.tables import sim_metadata  # noqa: PLC0415

    database = empty_postgres(request.getfixturevalue("postgres_url"))
    try:
        sim_metadata.drop_all(database.engine)  # each test starts with no account
        yield _with_ledger(database)
    finally:
        database.dispose()


LEDGERS = {"sqlite": sqlite_ledger, "postgres": postgres_ledger}
