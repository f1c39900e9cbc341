"""`orders submit` against `orders simulate`, both real processes: market data,
balances and positions over gRPC; what cannot be controlled from here is a
clear error, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from order_adapters.simulated import DEMO_USER
from tests.platform.suite.conftest import DEADLINE, balance_client, clean_env, start_simulator


def orders(data_dir: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "order_cli.main", *args],
        env=clean_env(data_dir, **settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_submit_executes_with_all_three_services_over_grpc(tmp_path: Path) -> None:
    # The simulator keeps its own database: the service's transaction holds
    # SQLite's write lock while it calls the balance service.
    simulator = start_simulator(tmp_path / "platform")
    try:
        remote = {
            "ORDERS_MARKET_DATA_URL": simulator.url,
            "ORDERS_BALANCE_URL": simulator.url,
            "ORDERS_POSITIONS_URL": simulator.url,
            "ORDERS_MARKET_DATA_TRADING_HOURS": "00:00-24:00",
        }
        with grpc.insecure_channel(simulator.address) as channel:
            grpc.channel_ready_future(channel).result(timeout=DEADLINE)
            balances = balance_client(channel)
            before = balances.get_balance(DEMO_USER)

            submitted = orders(
                tmp_path / "service",
                "submit",
                "--symbol",
                "KO",
                "--side",
                "buy",
                "--quantity",
                "10",
                "--json",
                **remote,
            )
            assert submitted.returncode == 0, submitted.stderr
            document = json.loads(submitted.stdout)
            assert document["current_status"] == "EXECUTED", document
            after = balances.get_balance(DEMO_USER)

        assert before.cash - after.cash == Decimal("624.00")  # 10 x 62.40, once
        assert after.reserved == before.reserved

        # The simulator's own state, as `orders account` shows it there.
        shown = orders(simulator.data_dir, "account", "--json")
        assert shown.returncode == 0, shown.stderr
        assert Decimal(str(json.loads(shown.stdout)["cash"])) == after.cash

        refused = orders(tmp_path / "service", "market", "set", "KO", "70", **remote)
        assert refused.returncode == 1
        assert "REMOTE_PLATFORM" in refused.stderr
        assert "Traceback" not in refused.stderr
    finally:
        assert simulator.stop() == 0


def test_a_platform_that_is_down_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    simulator = start_simulator(tmp_path / "platform", "--fail", "unavailable")
    try:
        submitted = orders(
            tmp_path / "service",
            "submit",
            "--symbol",
            "KO",
            "--side",
            "buy",
            "--quantity",
            "1",
            ORDERS_MARKET_DATA_URL=simulator.url,
            ORDERS_MARKET_DATA_RETRY_BACKOFF="0.01",
        )
    finally:
        assert simulator.stop() == 0

    assert submitted.returncode == 3  # a dependency is down
    assert "market data service is unavailable" in submitted.stderr
    assert "Traceback" not in submitted.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ORDERS_MARKET_DATA_URL", "grpc://market", "grpc://host:port"),
        ("ORDERS_BALANCE_URL", "http://balance:1", "grpc://host:port"),
        ("ORDERS_MARKET_DATA_TIMEZONE", "Mars/Olympus", "IANA time zone"),
        ("ORDERS_POSITIONS_DEADLINE", "0", "positive number of seconds"),
    ],
)
def test_bad_platform_settings_are_named_at_start(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    result = orders(
        tmp_path,
        "submit",
        "--symbol",
        "KO",
        "--side",
        "buy",
        "--quantity",
        "1",
        **{variable: value},
    )

    assert result.returncode == 2
    assert variable in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr
