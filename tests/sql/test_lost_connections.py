"""When PostgreSQL ends the service's connections (a restart, a failover,
``pg_terminate_backend``), the pool is replaced at the first broken one: one
call fails as "dependency unavailable", the next ones work."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from order_adapters.sql import SqlDatabase
from order_core.errors import DependencyUnavailable


def _terminate_all(database: SqlDatabase) -> int:
    name = database.engine.url.database
    admin = sa.create_engine(
        database.engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as connection:
            return len(
                connection.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %(name)s AND pid <> pg_backend_pid()",
                    {"name": name},
                ).all()
            )
    finally:
        admin.dispose()


@pytest.mark.postgres
def test_one_call_fails_when_the_server_ends_every_connection(
    postgres_database: SqlDatabase,
) -> None:
    # Fill the pool with idle connections, as a busy service has.
    units = [postgres_database.unit_of_work() for _ in range(6)]
    for unit in units:
        unit.orders.get(uuid.uuid4())
    for unit in units:
        unit.__exit__(None, None, None)
    assert _terminate_all(postgres_database) >= 6

    failures = 0
    for _ in range(10):
        try:
            with postgres_database.unit_of_work() as uow:
                uow.orders.get(uuid.uuid4())
        except DependencyUnavailable:
            failures += 1
    assert failures <= 1
