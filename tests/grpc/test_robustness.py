"""What the server answers when things go wrong inside it: an unexpected
exception, a deadline that passes while it works."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from tests.grpc.conftest import DEADLINE, Seed
from tests.grpc.failing_server import SECRET_DETAIL


@pytest.fixture
def failing() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.grpc.failing_server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "serving" not in line:
        process.kill()
        raise AssertionError(f"the failing server did not start: {process.communicate()}")
    yield process, line.strip().rpartition(" ")[2]
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def test_an_unexpected_exception_is_internal_with_a_correlation_id_only(
    seed: Seed, failing: tuple[subprocess.Popen[str], str]
) -> None:
    process, address = failing
    request = seed.pb.SubmitOrderRequest(
        user_id="7", symbol="AAPL", order_type="MARKET", order_side="BUY", quantity=1
    )
    with grpc.insecure_channel(address) as channel:
        stub = seed.pb_grpc.OrderServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.SubmitOrder(request, timeout=DEADLINE)
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.INTERNAL
    found = re.fullmatch(r"internal error \(correlation id ([0-9a-f]{32})\)", error.details())
    assert found, error.details()
    correlation = found.group(1)
    wire = repr(error.details()) + repr(error.trailing_metadata())
    for leaked in (SECRET_DETAIL, "Traceback", "RuntimeError", "failing_server"):
        assert leaked not in wire
    _, log = process.communicate(input="", timeout=30)
    assert correlation in log
    assert "Traceback" in log and SECRET_DETAIL in log
