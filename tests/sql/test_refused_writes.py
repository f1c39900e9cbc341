"""A write the database refuses (a lost race, a guard) fails its transaction,
not its connection: the connection is rolled back and pooled again, instead of
a new server process per refusal (about 10 ms of CPU each on PostgreSQL)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from order_adapters.sql import SqlDatabase
from order_core.errors import ConcurrencyConflict
from tests.conftest import ALICE, build_world


def _other_backends(observer: psycopg.Connection[Any]) -> set[int]:
    """The server processes serving the observer's database but itself (a
    pooled connection would hide itself)."""
    rows = observer.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid()"
    )
    return {int(row[0]) for row in rows}


@pytest.mark.postgres
def test_refused_writes_keep_their_connection(
    postgres_database: SqlDatabase, request: pytest.FixtureRequest
) -> None:
    world = build_world(database=postgres_database)
    refused = 0
    world.submit()  # the pool holds its connection from here on
    url = postgres_database.engine.url.set(drivername="postgresql")
    observer = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
    request.addfinalizer(observer.close)
    pids = _other_backends(observer)
    assert pids
    for attempt in range(30):  # past psycopg's prepare threshold, several times
        order_id = world.submit(idempotency_key=f"refused-{attempt}")
        with postgres_database.unit_of_work() as uow:
            stale = uow.orders.get(order_id)
        assert stale is not None
        world.service.cancel(order_id, ALICE)
        stale.fail("a writer that lost the race", world.clock.now())
        with pytest.raises(ConcurrencyConflict), postgres_database.unit_of_work() as uow:
            uow.orders.update(stale)
            uow.commit()
        refused += 1
        # The same statements again, on the same connection: none is broken.
        assert world.order(order_id).status == "CANCELLED"

    assert refused == 30
    assert _other_backends(observer) <= pids, "a refusal opened a new connection"
