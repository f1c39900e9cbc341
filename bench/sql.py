"""The SQL system of record under load: submit and process on SQLite and on
PostgreSQL, FindByID latency, and a raw baseline measured in the same run.

The raw baseline is what one durable order costs at the driver: a plain psycopg
loop that inserts one full ``orders`` row and commits, row after row. It runs
before and after the library (the mean of both is used), on the same database.
The library's submit does everything a submission needs (validation, risk,
holds, the order, its outbox message and its idempotency record in one
transaction) with the in-memory market and the simulated SQL ledger. Next to
each rate: the statements and round trips per operation, counted at the driver
(``SqlDatabase.counter``).

    python bench/sql.py [--orders 2000] [--postgres URL] [--skip-sqlite]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _service import trading_service  # bench/ is the script's folder

from order_adapters.memory import (
    SystemClock,
)
from order_adapters.sql import SqlDatabase, upgrade
from order_core import OrderService, SubmitOrder

SYMBOLS = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"]
USERS = 50
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def percentile(samples: list[int], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1000


def line(name: str, samples: list[int], counts: Counts | None = None) -> str:
    seconds = sum(samples) / 1e9
    text = (
        f"  {name:22s} {len(samples) / seconds:8,.0f} /s   p50 {percentile(samples, 0.5):8.1f} us"
        f"   p99 {percentile(samples, 0.99):8.1f} us"
    )
    if counts is not None and name in counts:
        statements, round_trips = counts[name]
        text += f"   {statements:4.1f} statements in {round_trips:4.1f} round trips"
    return text


def timed(calls: list[Callable[[], object]]) -> list[int]:
    clock = time.perf_counter_ns
    samples = []
    for call in calls:
        began = clock()
        call()
        samples.append(clock() - began)
    return samples


def build(database: SqlDatabase) -> tuple[OrderService, list[uuid.UUID]]:
    service, _, users = trading_service(database, symbols=SYMBOLS, users=USERS, clock=SystemClock())
    return service, users


Counts = dict[str, tuple[float, float]]


def library(database: SqlDatabase, orders: int) -> tuple[list[int], list[int], list[int], Counts]:
    service, users = build(database)
    commands = [
        SubmitOrder(
            user_id=users[n % USERS],
            symbol=SYMBOLS[n % len(SYMBOLS)],
            order_type="MARKET",
            order_side="BUY" if n % 2 else "SELL",
            quantity=str(1 + n % 5),
            idempotency_key=f"bench-{n}",
        )
        for n in range(orders + 200)
    ]
    for command in commands[:200]:  # warm the pool, the caches and prepared statements
        service.process(service.submit(command).order_id)
    receipts: list[object] = []
    counts: Counts = {}
    with database.counter.measure() as counted:
        submit = timed([lambda c=c: receipts.append(service.submit(c)) for c in commands[200:]])
    counts["submit"] = (counted.statements / orders, counted.round_trips / orders)
    with database.counter.measure() as counted:
        process = timed([lambda r=r: service.process(r.order_id) for r in receipts])  # type: ignore[attr-defined]
    counts["process"] = (counted.statements / orders, counted.round_trips / orders)
    with database.counter.measure() as counted:
        find = timed([lambda r=r: _find(database, r.order_id) for r in receipts])  # type: ignore[attr-defined]
    counts["FindByID"] = (counted.statements / orders, counted.round_trips / orders)
    return submit, process, find, counts


def _find(database: SqlDatabase, order_id: uuid.UUID) -> None:
    with database.unit_of_work() as uow:
        assert uow.orders.get(order_id) is not None


def raw_baseline(url: str, orders: int) -> list[int]:
    """INSERT one full orders row and COMMIT, row after row, with plain psycopg."""
    conninfo = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    now = datetime.now(UTC).replace(tzinfo=None)
    with psycopg.connect(conninfo) as connection:
        sql = (
            "INSERT INTO orders (id, user_id, symbol, order_type, order_side, quantity, price, "
            "stop_price, status, created_at, updated_at, executed_at, execution_price, "
            "market_price_at_submission, market_data_timestamp, failure_reason, triggered_at, "
            "version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            "%s, %s)"
        )

        def insert_and_commit() -> None:
            connection.execute(
                sql,
                (
                    uuid.uuid4(),
                    uuid.uuid4(),
                    "AAPL",
                    "MARKET",
                    "BUY",
                    Decimal("1.00000000"),
                    None,
                    None,
                    "PENDING",
                    now,
                    now,
                    None,
                    None,
                    Decimal("100.00000000"),
                    now,
                    None,
                    None,
                    1,
                ),
            )
            connection.commit()

        for _ in range(100):
            insert_and_commit()
        return timed([insert_and_commit] * orders)


def postgres(url: str, orders: int) -> None:
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"orders_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    bench_url = sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(bench_url)
        raw_before = raw_baseline(bench_url, orders)
        database = SqlDatabase.from_url(bench_url)
        try:
            submit, process, find, counts = library(database, orders)
        finally:
            database.dispose()
        raw_after = raw_baseline(bench_url, orders)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    raw = raw_before + raw_after
    raw_rate = len(raw) / (sum(raw) / 1e9)
    submit_rate = len(submit) / (sum(submit) / 1e9)
    print(f"PostgreSQL ({orders} orders, one thread)")
    print(line("raw insert+commit", raw))
    print(line("submit", submit, counts))
    print(line("process", process, counts))
    print(line("FindByID", find, counts))
    print(
        f"  submit / raw = {submit_rate / raw_rate:.2f}"
        f"  (raw before {len(raw_before) / (sum(raw_before) / 1e9):,.0f}/s,"
        f" after {len(raw_after) / (sum(raw_after) / 1e9):,.0f}/s;"
        f" submit mean {statistics.fmean(submit) / 1000:.0f} us)"
    )


def sqlite(orders: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        upgrade(url)
        database = SqlDatabase.from_url(url)
        try:
            submit, process, find, counts = library(database, orders)
        finally:
            database.dispose()
    print(f"SQLite, WAL, synchronous=FULL ({orders} orders, one thread)")
    print(line("submit", submit, counts))
    print(line("process", process, counts))
    print(line("FindByID", find, counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--skip-sqlite", action="store_true")
    arguments = parser.parse_args()
    if not arguments.skip_sqlite:
        sqlite(arguments.orders)
    postgres(arguments.postgres, arguments.orders)


if __name__ == "__main__":
    main()
