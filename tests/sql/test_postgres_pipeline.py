"""A statement failing inside a pipelined flush on PostgreSQL is raised as
itself and logs nothing: psycopg logs "error ignored terminating
<psycopg.Pipeline ...>: pipeline aborted" at WARNING when its pipeline block is
left by an exception, which the CLI printed for racing duplicate submissions
that were answered correctly."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from order_adapters.sql import SqlDatabase
from order_adapters.sql.dialects import PostgresDialect, Sql, Write
from order_core import ConcurrencyConflict, IdempotencyInProgress, SubmitOrder
from tests.conftest import ALICE, build_world

pytestmark = pytest.mark.postgres


@pytest.fixture
def driver(postgres_database: SqlDatabase) -> Iterator[Any]:
    """A psycopg connection of the pool, in autocommit, with a table of its own."""
    pooled = postgres_database.engine.raw_connection()
    connection = pooled.driver_connection
    connection.execute("CREATE TEMP TABLE pipelined (k int PRIMARY KEY, v int)")
    connection.execute("INSERT INTO pipelined VALUES (1, 0)")
    try:
        yield connection
    finally:
        pooled.invalidate()  # a connection with a temporary table goes back to no pool


def write(text: str, conflict: ConcurrencyConflict | None = None) -> Write:
    return Write(Sql(text, {}), {}, conflict)


@pytest.mark.parametrize("queued_after", [0, 1, 10, 500])
def test_a_failed_statement_in_a_checked_flush_is_raised_and_logs_nothing(
    driver: Any, caplog: pytest.LogCaptureFixture, queued_after: int
) -> None:
    duplicate = write("INSERT INTO pipelined VALUES (1, 1)")
    behind = [write("UPDATE pipelined SET v = v + 1")] * queued_after
    checked = write("UPDATE pipelined SET v = 9 WHERE k = 1", ConcurrencyConflict(UUID(int=1), 1))

    from psycopg.errors import UniqueViolation  # noqa: PLC0415  # the postgres extra

    with caplog.at_level(logging.DEBUG), pytest.raises(UniqueViolation):
        PostgresDialect().flush(driver, [duplicate, *behind, checked], begin=True, commit=True)

    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert driver.execute("SELECT v FROM pipelined").fetchall() == [(0,)]  # rolled back
    assert driver.info.transaction_status == 0  # idle: usable again


def test_racing_identical_submissions_log_nothing(
    postgres_database: SqlDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(database=postgres_database)
    answers: list[object] = []
    lock = threading.Lock()

    with caplog.at_level(logging.WARNING):
        for round_ in range(25):
            command = SubmitOrder(
                ALICE, "AAPL", "MARKET", "BUY", "1", idempotency_key=f"race-{round_}"
            )
            start = threading.Barrier(4)

            def submit(command: SubmitOrder = command, start: threading.Barrier = start) -> None:
                start.wait()
                try:
                    answer: object = world.service.submit(command)
                except IdempotencyInProgress as busy:
                    answer = busy
                with lock:
                    answers.append(answer)

            threads = [threading.Thread(target=submit) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

    warnings = [
        f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING
    ]
    assert warnings == []
    receipts = [a for a in answers if not isinstance(a, IdempotencyInProgress)]
    assert len(answers) == 100
    assert len({receipt.order_id for receipt in receipts}) == 25  # type: ignore[attr-defined]
    assert sum(not receipt.replayed for receipt in receipts) == 25  # type: ignore[attr-defined]
