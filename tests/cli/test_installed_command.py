"""End to end: the installed ``orders`` executable, run as a subprocess against
a temporary data directory (SQLite) and a PostgreSQL database of its own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.services import closed_port, need

Run = Callable[..., subprocess.CompletedProcess[str]]


def executable() -> str:
    """The ``orders`` script installed next to this interpreter."""
    beside = Path(sys.executable).parent / "orders"
    found = str(beside) if beside.exists() else shutil.which("orders")
    if found is None:
        pytest.fail("the `orders` command is not installed: pip install -e '.[all,test]'")
    return found


def runner(data_dir: Path, *global_options: str) -> Run:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_")}
    environment["ORDERS_DATA_DIR"] = str(data_dir)
    command = executable()

    def run(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(  # our own script, fixed arguments
            [command, *global_options, *args],
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
            check=False,
        )
        assert done.returncode == expect, (done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        return done

    return run


def document(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


def walk_through(run: Run) -> None:
    """Market and limit orders, a price move, a cancel, a replay and the errors."""
    market = document(run("submit", "--symbol", "AAPL", "--side", "buy", "--quantity", "10",
                          "--json"))  # fmt: skip
    assert market["current_status"] == "EXECUTED"

    limit = document(run("submit", "--symbol", "AAPL", "--side", "buy", "--type", "limit",
                         "--quantity", "5", "--price", "180", "--json"))  # fmt: skip
    assert limit["current_status"] == "PENDING"
    moved = run("market", "set", "AAPL", "179.50")
    assert "Executed (1)" in moved.stdout
    assert limit["order_id"] in moved.stdout

    resting = document(run("submit", "--symbol", "MSFT", "--side", "buy", "--type", "limit",
                           "--quantity", "1", "--price", "400", "--json"))  # fmt: skip
    run("cancel", resting["order_id"])

    key = ("--idempotency-key", "walk-through-1")
    first = document(run("submit", "--symbol", "NVDA", "--side", "buy", "--quantity", "1",
                         *key, "--json"))  # fmt: skip
    again = document(run("submit", "--symbol", "NVDA", "--side", "buy", "--quantity", "1",
                         *key, "--json"))  # fmt: skip
    assert (again["order_id"], again["replayed"]) == (first["order_id"], True)

    history = document(run("history", "--json"))
    assert history["total_count"] == 4
    statuses = {o["order_id"]: o["status"] for o in history["orders"]}
    assert statuses == {
        market["order_id"]: "EXECUTED",
        limit["order_id"]: "EXECUTED",
        resting["order_id"]: "CANCELLED",
        first["order_id"]: "EXECUTED",
    }
    cash = document(run("account", "--json"))["cash"]
    assert cash == "97086.2"  # 100000 - 10 x 189.5 - 5 x 179.5 - 1 x 121.3

    refused = run("submit", "--symbol", "AAPL", "--side", "buy", "--quantity", "99999", expect=1)
    assert refused.stderr.startswith("Rejected (MAX_ORDER_VALUE_EXCEEDED)")
    malformed = run("submit", "--symbol", "AAPL", "--side", "buy", "--quantity", "-1", expect=2)
    assert "--quantity" in malformed.stderr


def test_sqlite_embedded_default(tmp_path: Path) -> None:
    run = runner(tmp_path / "data")

    walk_through(run)

    info = document(run("info", "--json"))
    assert info["database"] == f"sqlite:///{tmp_path / 'data' / 'orders.db'}"
    assert (tmp_path / "data" / "orders.db").is_file()


def test_sqlite_load_prints_its_figures(tmp_path: Path) -> None:
    run = runner(tmp_path / "data")

    done = run("load", "--count", "150", "--seed", "11")

    assert done.stdout.startswith("150 orders in")  # the progress bar went to stderr
    assert "orders/s" in done.stdout
    assert "p50" in done.stdout and "p95" in done.stdout and "p99" in done.stdout
    assert "EXECUTED" in done.stdout


def test_a_database_that_is_down_exits_3(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test"
    run = runner(tmp_path, "--database-url", url)

    done = run("history", expect=3)

    assert done.stderr.startswith("Unavailable (DEPENDENCY_UNAVAILABLE): database")


@pytest.fixture
def blank_postgres_url() -> Iterator[str]:
    need("PostgreSQL")
    from tests.sql_databases import temporary_postgres_database  # noqa: PLC0415

    with temporary_postgres_database(migrate=False) as url:
        yield url


def test_postgresql_via_the_database_url(tmp_path: Path, blank_postgres_url: str) -> None:
    run = runner(tmp_path, "--database-url", blank_postgres_url)

    not_yet = run("history", expect=2)
    assert "run `orders db upgrade`" in not_yet.stderr
    upgraded = run("db", "upgrade")
    assert "is at schema revision 0003 (newest)" in upgraded.stdout

    walk_through(run)

    engine = sa.create_engine(blank_postgres_url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT count(*) FROM orders").scalar_one()
    finally:
        engine.dispose()
    assert rows == 4
    assert not (tmp_path / "orders.db").exists()

    # More threads than the pool has connections: they queue, nothing fails.
    report = document(run("load", "--count", "200", "--concurrency", "40", "--json"))
    assert report["unfinished"] == 0
    assert report["processing_errors"] == {}
    assert sum(report["outcomes"].values()) == 200
