"""`orders submit` against `orders simulate`, both real processes: market data,
balances and positions over gRPC; what cannot be controlled from here is a
clear error, never a traceback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import grpc
import jwt
import pytest

from order_adapters.simulated import DEMO_USER
from tests.platform.suite.conftest import DEADLINE, balance_client, clean_env, start_simulator
from tests.process_output import Output

SECRET = "platform-secret-of-at-least-32-bytes-for-hs256"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def _metric(port: int, line_start: str) -> float | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(line_start):
                return float(line.rpartition(" ")[2])
    return None


def test_a_peer_down_at_submit_opens_the_breaker_which_metrics_show(tmp_path: Path) -> None:
    """Through `orders serve`: every submit is UNAVAILABLE to the caller with
    nothing stored and no hold left; after 5 failures the breaker is open
    (answered at once) and /metrics says so."""
    from order_adapters.grpc.generated import order_service_pb2 as pb  # noqa: PLC0415
    from order_adapters.grpc.generated import order_service_pb2_grpc as pb_grpc  # noqa: PLC0415

    simulator = start_simulator(tmp_path / "platform", "--fail", "unavailable")
    metrics_port = free_port()
    env = clean_env(
        tmp_path / "service",
        ORDERS_MARKET_DATA_URL=simulator.url,
        ORDERS_MARKET_DATA_RETRY_BACKOFF="0.01",
        ORDERS_JWT_SECRET=SECRET,
    )
    command = [sys.executable, "-m", "order_cli.main", "serve", "--listen", "127.0.0.1:0"]
    server = subprocess.Popen(
        [*command, "--metrics-port", str(metrics_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        address = Output(server).until(r"serving .* on (\S+)").group(1)
        user = str(DEMO_USER)
        token = jwt.encode(
            {"userId": user, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256"
        )
        metadata = (("authorization", f"Bearer {token}"),)
        request = pb.SubmitOrderRequest(
            user_id=user, symbol="KO", order_type="MARKET", order_side="BUY", quantity=1
        )
        with grpc.insecure_channel(address) as channel:
            stub = pb_grpc.OrderServiceStub(channel)
            for _ in range(6):
                with pytest.raises(grpc.RpcError) as failed:
                    stub.SubmitOrder(request, timeout=DEADLINE, metadata=metadata)
                assert failed.value.code() is grpc.StatusCode.UNAVAILABLE
            history = stub.GetOrderHistory(
                pb.GetOrderHistoryRequest(user_id=user), timeout=DEADLINE, metadata=metadata
            )
        assert history.total_count == 0  # nothing stored...
        account = orders(tmp_path / "service", "account", "--json")
        assert Decimal(str(json.loads(account.stdout)["reserved"])) == 0  # ...no hold left
        state = 'orders_platform_breaker_state{service="market data service"'
        assert _metric(metrics_port, f'{state},state="open"}}') == 1.0
        assert _metric(metrics_port, f'{state},state="closed"}}') == 0.0
    finally:
        server.terminate()
        server.wait(timeout=40)
        assert simulator.stop() == 0
