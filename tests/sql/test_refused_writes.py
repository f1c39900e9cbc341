"""A write the database refuses (a lost race, a guard) fails its transaction,
not its connection: the connection is rolled back and pooled again, instead of
a new server process per refusal (about 10 ms of CPU each on PostgreSQL)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from order_adapters.settings import DatabaseSettings
from order_adapters.sql import SqlDatabase
from order_core import Symbol
from order_core.errors import ConcurrencyConflict, DependencyUnavailable
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


@pytest.mark.postgres
def test_a_timed_out_flush_discards_its_connection_and_the_next_statement_takes_another(
    postgres_database: SqlDatabase, request: pytest.FixtureRequest
) -> None:
    # Not a refusal: a statement that ran out of time. Its connection is
    # discarded, and the next statement takes another.
    url = postgres_database.engine.url
    quick = SqlDatabase.from_url(
        url.render_as_string(hide_password=False), DatabaseSettings(statement_timeout=0.2)
    )
    request.addfinalizer(quick.dispose)
    world = build_world(database=quick)
    world.submit()
    holder = psycopg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False)
    )  # not autocommit: its lock on Alice's row lasts until it rolls back
    request.addfinalizer(holder.close)
    holder.execute("SELECT 1 FROM order_users WHERE user_id = %s FOR UPDATE", (ALICE,))

    with quick.unit_of_work() as uow:
        uow.orders.lock_user(ALICE)
        with pytest.raises(DependencyUnavailable):
            uow.orders.activity(ALICE, Symbol("AAPL"), since=world.clock.now())
        # The transaction ended with the failure; the unit reads again on a
        # fresh connection (it used to hold the discarded one: AttributeError).
        assert uow.orders.activity(ALICE, Symbol("AAPL"), since=world.clock.now()).orders_since
    holder.rollback()

    assert world.submit(idempotency_key="after-the-timeout")  # a fresh connection
