"""Starting and stopping ``orders serve``; the error table row by row."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from order_adapters.grpc.errors import STATUS_OF, status_of
from order_core.errors import (
    ConcurrencyConflict,
    DependencyUnavailable,
    ErrorCategory,
    IdempotencyInProgress,
    InvalidInput,
    OrderError,
)
from tests.grpc.conftest import DEADLINE, start_server


def test_sigterm_stops_serving_and_exits_0(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        with grpc.insecure_channel(server.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            answer = health.Check(health_pb2.HealthCheckRequest(), timeout=DEADLINE)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=35) == 0
    finally:
        server.stop()


def test_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERS_")}
    env["ORDERS_DATA_DIR"] = str(tmp_path)
    finished = subprocess.run(
        [sys.executable, "-m", "order_cli.main", "serve", "--listen", "127.0.0.1:0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 2
    assert "ORDERS_JWT_SECRET" in finished.stderr


def test_allow_unauthenticated_says_so_loudly(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--allow-unauthenticated", secret=None)
    assert server.stop() == 0
    assert server.process.stderr is not None
    assert "WITHOUT AUTHENTICATION" in server.process.stderr.read()


def test_every_category_has_a_status() -> None:
    assert set(STATUS_OF) == set(ErrorCategory)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidInput("bad", field="symbol"), grpc.StatusCode.INVALID_ARGUMENT),
        (IdempotencyInProgress(2), grpc.StatusCode.ABORTED),
        (DependencyUnavailable("database"), grpc.StatusCode.UNAVAILABLE),
    ],
)
def test_rows_not_reachable_from_outside(error: OrderError, code: grpc.StatusCode) -> None:
    status = status_of(error)
    assert status.code == code.value[0]
    assert status.message == error.message


def test_a_conflict_names_its_reason() -> None:
    status = status_of(ConcurrencyConflict(uuid.uuid4(), 3))
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.reason == "CONCURRENT_MODIFICATION" and info.metadata["value"] == "3"
