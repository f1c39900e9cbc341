"""``orders recover`` and ``orders audit``: what an operator runs after an incident."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli.test_cli import Invoke, as_json, orders, submitted

__all__ = ["orders"]  # the fixture, shared with test_cli


def test_audit_finds_balanced_books_after_trading(orders: Invoke) -> None:
    submitted(orders, "--symbol", "AAPL", "--side", "buy", "--quantity", "3")
    submitted(orders, "--symbol", "TSLA", "--side", "sell", "--quantity", "2")
    limit = submitted(
        orders,
        "--symbol",
        "MSFT",
        "--side",
        "buy",
        "--type",
        "limit",
        "--quantity",
        "1",
        "--price",
        "400",
    )
    assert limit["current_status"] == "PENDING"  # its cash is held

    document = as_json(orders("audit", "--json"))

    assert document["accounts"] >= 1
    assert document["discrepancies"] == []
    assert "The books balance" in orders("audit").stdout


def test_audit_names_the_account_the_orders_and_exits_1(orders: Invoke, tmp_path: Path) -> None:
    order = submitted(orders, "--symbol", "AAPL", "--side", "buy", "--quantity", "3")
    # Someone edits the ledger behind the service's back.
    with sqlite3.connect(tmp_path / "data" / "orders.db") as database:
        database.execute("UPDATE sim_accounts SET cash = cash + 100000000")

    result = orders("audit", "--json")

    assert result.exit_code == 1
    (found,) = json.loads(result.stdout)["discrepancies"]
    assert found["kind"] == "cash"
    assert found["order_ids"] == [order["order_id"]]
    assert orders("audit").exit_code == 1


def test_recover_takes_up_an_order_a_killed_process_left_processing(
    orders: Invoke, tmp_path: Path
) -> None:
    order = submitted(
        orders,
        "--symbol",
        "AAPL",
        "--side",
        "buy",
        "--type",
        "limit",
        "--quantity",
        "1",
        "--price",
        "185",
    )
    # What a worker killed between its two commits leaves: PROCESSING at a fixed price.
    with sqlite3.connect(tmp_path / "data" / "orders.db") as database:
        database.execute(
            "UPDATE orders SET status = 'PROCESSING', execution_price = 18500000000, "
            "version = version + 1, updated_at = '2000-01-01 00:00:00.000000' WHERE id = ?",
            (order["order_id"].replace("-", ""),),
        )

    report = as_json(orders("recover", "--json", env={"ORDERS_STALE_AFTER": "1"}))

    # The pass at the start of the command already took it up.
    assert report["recovered_at_start"] == 1
    status = as_json(orders("status", order["order_id"], "--json"))
    assert status["status"] == "EXECUTED"
    assert as_json(orders("audit", "--json"))["discrepancies"] == []
