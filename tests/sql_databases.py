"""Databases for the SQL adapter tests: created for a run, dropped after it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from order_adapters.sql import SqlDatabase, upgrade
from tests.services import POSTGRES_URL, unique_name

TABLES = ("order_idempotency", "order_outbox", "order_users", "orders")


@contextmanager
def temporary_postgres_database(*, migrate: bool = True) -> Iterator[str]:
    """CREATE DATABASE for this run, migrate it (unless told not to), and DROP
    it at the end."""
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = unique_name("orders_test")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


#: The simulated ledger's tables, emptied too where an earlier test made them
#: (a fresh SQLite copy has none: each test starts with no account either way).
LEDGER_TABLES = ("sim_accounts", "sim_positions")


def empty_postgres(url: str) -> SqlDatabase:
    """The run's database with every table emptied."""
    database = SqlDatabase.from_url(url)
    with database.engine.connect() as connection:
        existing = set(sa.inspect(connection).get_table_names())
        tables = [*TABLES, *(table for table in LEDGER_TABLES if table in existing)]
        connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        connection.commit()
    return database


def fresh_sqlite(template: Path, directory: Path) -> SqlDatabase:
    """A copy of the migrated template."""
    path = directory / f"{unique_name('orders')}.db"
    shutil.copyfile(template, path)
    return SqlDatabase.from_url(f"sqlite:///{path}")
