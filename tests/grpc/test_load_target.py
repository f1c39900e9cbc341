"""``orders load --target``: the gRPC load generator against a real ``orders
serve`` process, and the ledger it keeps of every receipt."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.grpc.conftest import SECRET, start_server


def orders_load(
    data_dir: Path, *args: str, secret: str = SECRET
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERS_")}
    env.update({"ORDERS_DATA_DIR": str(data_dir), "ORDERS_JWT_SECRET": secret})
    command = [sys.executable, "-m", "order_cli.main", "load", *args]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_an_open_loop_run_accounts_for_every_receipt(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        done = orders_load(
            tmp_path,
            "--target",
            f"grpc://{server.address}",
            "--rate",
            "80",
            "--duration",
            "2",
            "--seed",
            "7",
            "--json",
        )
    finally:
        assert server.stop() == 0
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["mode"] == "open"
    assert report["requests"] == report["answered"] == report["acknowledged"] == 160
    assert sum(report["statuses"].values()) == 160
    assert set(report["statuses"]) <= {"EXECUTED", "FAILED", "CANCELLED", "RESTING"}
    ledger = report["ledger"]
    assert (ledger["lost"], ledger["duplicated"], ledger["in_flight"]) == (0, 0, 0)
    assert ledger["keys_resent"] == 100
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert report["execution_ms"]["p50"] > 0  # market orders executed after acceptance


def test_orders_sent_while_the_server_is_killed_are_resent_with_their_keys(
    tmp_path: Path,
) -> None:
    """The server dies mid-run (SIGKILL) and comes back: calls whose outcome
    was unknown are sent again with the same key; none is lost or doubled."""
    server = start_server(tmp_path)
    address = server.address
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERS_")}
    env.update({"ORDERS_DATA_DIR": str(tmp_path), "ORDERS_JWT_SECRET": SECRET})
    command = [sys.executable, "-m", "order_cli.main", "load", "--target", f"grpc://{address}"]
    command += ["--rate", "100", "--duration", "3", "--seed", "8", "--json"]
    running = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(1.0)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    port = address.rpartition(":")[2]
    # Orders the killed server left PROCESSING are taken up once 1 s stale.
    restarted = start_server(
        tmp_path, "--listen", f"127.0.0.1:{port}", settings={"ORDERS_STALE_AFTER": "1"}
    )
    try:
        out, err = running.communicate(timeout=120)
    finally:
        assert restarted.stop() == 0
    assert running.returncode == 0, err
    report = json.loads(out)
    ledger = report["ledger"]
    assert (ledger["lost"], ledger["duplicated"], ledger["in_flight"]) == (0, 0, 0)
    assert report["acknowledged"] + sum(report["refused"].values()) == 300
    assert report["resolved_by_resending"] > 0  # the outage was felt...
    assert report["unknown_outcome"] == 0  # ...and every unknown outcome resolved


def test_rate_without_a_target_is_a_usage_error(tmp_path: Path) -> None:
    done = orders_load(tmp_path, "--rate", "10", "--duration", "1")
    assert done.returncode == 2
    assert "--target" in done.stderr
