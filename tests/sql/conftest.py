"""Worlds whose system of record is a real SQL database: a fresh SQLite file,
or this run's PostgreSQL database with its tables emptied."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from order_adapters.sql import SqlDatabase
from tests.conftest import World, build_world
from tests.sql_databases import empty_postgres, fresh_sqlite


@pytest.fixture(params=["sqlite", "postgres"])
def sql_database(request: pytest.FixtureRequest) -> Iterator[SqlDatabase]:
    if request.param == "sqlite":
        database = fresh_sqlite(
            request.getfixturevalue("sqlite_template"), request.getfixturevalue("tmp_path")
        )
    else:
        database = empty_postgres(request.getfixturevalue("postgres_url"))
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[SqlDatabase]:
    database = empty_postgres(postgres_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def sql_world(sql_database: SqlDatabase) -> World:
    return build_world(database=sql_database)
