"""The statements and round trips an order costs, counted at the driver
(``SqlDatabase.counter``): a change that adds one fails here. The budgets are
what ``bench/sql.py`` measures (docs/sql.md); lower them when a change saves one."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from order_adapters.sql import SqlDatabase
from order_core import OrderRejected
from order_core.policy import IdempotencyPolicy, OrderPolicy, RiskPolicy
from tests.conftest import build_world
from tests.sql_databases import fresh_sqlite

#: (statements, round trips) at most, per backend and operation.
BUDGET = {
    "postgresql": {"submit": (12, 4), "process": (10, 3), "position": (6, 2)},
    "sqlite": {"submit": (11, 11), "process": (9, 9), "position": (5, 5)},
}


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_submit_process_and_position_stay_within_budget(
    sql_database: SqlDatabase, side: str
) -> None:
    world = build_world(database=sql_database)
    budget = BUDGET[sql_database.dialect.name]
    world.service.process(world.submit(order_side=side))  # warm: pool, caches, schema checks
    counter = sql_database.counter

    with counter.measure() as submitted:
        order_id = world.submit(order_side=side, idempotency_key=f"budget-{side}")
    with counter.measure() as processed:
        world.service.process(order_id)

    with counter.measure() as applied:
        assert world.service.apply_position_update(order_id)

    assert world.order(order_id).status == "EXECUTED"
    assert submitted.statements <= budget["submit"][0], submitted
    assert submitted.round_trips <= budget["submit"][1], submitted
    assert processed.statements <= budget["process"][0], processed
    assert processed.round_trips <= budget["process"][1], processed
    assert applied.statements <= budget["position"][0], applied
    assert applied.round_trips <= budget["position"][1], applied


def test_without_a_key_the_day_is_still_counted_within_the_budget(
    sql_database: SqlDatabase,
) -> None:
    # No key and no derived key: nothing reads under the lock before the risk
    # rules, so the activity read ahead must be sent by the rules' own read.
    policy = OrderPolicy(
        idempotency=IdempotencyPolicy(derived_key_window=timedelta(0)),
        risk=RiskPolicy(max_daily_orders=3),
    )
    world = build_world(policy, database=sql_database)
    budget = BUDGET[sql_database.dialect.name]["submit"]
    world.submit()
    world.submit()
    with sql_database.counter.measure() as third:
        world.submit()
    with pytest.raises(OrderRejected, match="daily"):
        world.submit()
    assert third.statements <= budget[0] - 2, third  # no key: no record read or written
    assert third.round_trips <= budget[1] - 1, third  # and no early read of it


@pytest.mark.postgres
def test_a_pipeline_is_one_round_trip_and_each_sync_another(
    postgres_database: SqlDatabase,
) -> None:
    pooled = postgres_database.engine.raw_connection()
    try:
        connection = pooled.driver_connection
        with postgres_database.counter.measure() as alone:
            connection.execute("SELECT 1")
        with postgres_database.counter.measure() as pipelined, connection.pipeline() as pipeline:
            connection.execute("SELECT 1")
            connection.execute("SELECT 2")
            pipeline.sync()
            connection.execute("SELECT 3")
    finally:
        pooled.close()
    assert (alone.statements, alone.round_trips) == (1, 1)
    assert (pipelined.statements, pipelined.round_trips) == (3, 2)


def test_a_sqlite_writer_waits_for_the_other_in_the_process_and_never_leaks_the_lock(
    sqlite_template: Path, tmp_path: Path
) -> None:
    database = fresh_sqlite(sqlite_template, tmp_path)
    try:
        first, second = database.engine.raw_connection(), database.engine.raw_connection()
        first.driver_connection.execute("BEGIN IMMEDIATE")
        waited = threading.Event()

        def write() -> None:
            second.driver_connection.execute("BEGIN IMMEDIATE")
            waited.set()
            second.driver_connection.execute("COMMIT")

        writer = threading.Thread(target=write)
        writer.start()
        assert not waited.wait(0.2)  # queued on the process's lock
        first.close()  # returned to the pool: reset (rolled back), the lock given back
        writer.join(5)
        assert waited.is_set()
        second.close()
    finally:
        database.dispose()
