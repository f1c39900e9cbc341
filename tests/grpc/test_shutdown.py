"""Deadlines and SIGTERM with work in flight, on the embedded default (SQLite).

A slow call is made by holding the database's write lock from the test: the
server's write waits for it (up to the statement timeout, ``ORDERS_DB_STATEMENT_TIMEOUT``)."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.grpc.conftest import DEADLINE, Seed, Served, gateway_metadata, start_server

USER = "31337"


def submit_request(seed: Seed, user: str = USER) -> Any:
    return seed.pb.SubmitOrderRequest(
        user_id=user, symbol="AAPL", order_type="MARKET", order_side="BUY", quantity=1
    )


@contextmanager
def write_lock(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """The SQLite database's write lock, held by the test until the block ends."""
    connection = sqlite3.connect(data_dir / "orders.db", isolation_level=None, timeout=10)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield connection
    finally:
        connection.rollback()
        connection.close()


def serving(address: str) -> int:
    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        return int(health.Check(health_pb2.HealthCheckRequest(), timeout=DEADLINE).status)


def stderr_of(server: Served) -> str:
    assert server.process.stderr is not None
    return server.process.stderr.read()


def test_a_deadline_that_passes_while_working_is_deadline_exceeded(
    seed: Seed, tmp_path: Path
) -> None:
    server = start_server(tmp_path, settings={"ORDERS_DB_STATEMENT_TIMEOUT": "1.5"})
    try:
        with grpc.insecure_channel(server.address) as channel:
            stub = seed.pb_grpc.OrderServiceStub(channel)
            stub.SubmitOrder(
                submit_request(seed), timeout=DEADLINE, metadata=gateway_metadata(USER)
            )
            with write_lock(tmp_path):
                with pytest.raises(grpc.RpcError) as caught:
                    stub.SubmitOrder(
                        submit_request(seed), timeout=0.3, metadata=gateway_metadata(USER)
                    )
                assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED  # type: ignore[attr-defined]
                time.sleep(2.0)  # the server's write gives up while the lock is held
            assert serving(server.address) == health_pb2.HealthCheckResponse.SERVING
            stub.SubmitOrder(
                submit_request(seed), timeout=DEADLINE, metadata=gateway_metadata(USER)
            )
    finally:
        assert server.stop() == 0
    log = stderr_of(server)
    assert "failed unexpectedly" not in log and "INTERNAL" not in log


def test_health_is_not_serving_during_shutdown_and_the_call_in_flight_finishes(
    seed: Seed, tmp_path: Path
) -> None:
    server = start_server(tmp_path, settings={"ORDERS_DB_STATEMENT_TIMEOUT": "20"})
    try:
        with (
            grpc.insecure_channel(server.address) as calls,
            grpc.insecure_channel(server.address) as watcher,
            futures.ThreadPoolExecutor(1) as pool,
        ):
            stub = seed.pb_grpc.OrderServiceStub(calls)
            stub.SubmitOrder(
                submit_request(seed), timeout=DEADLINE, metadata=gateway_metadata(USER)
            )
            watch = health_pb2_grpc.HealthStub(watcher).Watch(
                health_pb2.HealthCheckRequest(), timeout=30
            )
            assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
            with write_lock(tmp_path):
                slow = pool.submit(
                    stub.SubmitOrder,
                    submit_request(seed),
                    timeout=25,
                    metadata=gateway_metadata(USER),
                )
                time.sleep(0.5)  # the call is in the server, waiting for the lock
                server.process.send_signal(signal.SIGTERM)
                assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
                watch.cancel()
                assert not slow.done()
            receipt = slow.result(timeout=DEADLINE)  # the call in flight finishes
            assert receipt.order_id and receipt.api_response.success
        assert server.process.wait(timeout=35) == 0
    finally:
        server.stop()


def test_sigterm_under_load_loses_no_accepted_order(seed: Seed, tmp_path: Path) -> None:
    server = start_server(tmp_path)
    accepted: dict[str, list[str]] = {}
    terminating = threading.Event()
    errors: list[BaseException] = []

    def client(user: str) -> None:
        ids = accepted.setdefault(user, [])
        with grpc.insecure_channel(server.address) as channel:
            stub = seed.pb_grpc.OrderServiceStub(channel)
            while True:
                try:
                    receipt = stub.SubmitOrder(
                        submit_request(seed, user),
                        timeout=DEADLINE,
                        metadata=gateway_metadata(user),
                    )
                except grpc.RpcError as error:
                    if not terminating.is_set():
                        errors.append(error)
                    return
                ids.append(receipt.order_id)

    users = [str(5000 + n) for n in range(4)]
    threads = [threading.Thread(target=client, args=(user,)) for user in users]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        terminating.set()
        server.process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(timeout=40)
        assert server.process.wait(timeout=35) == 0
    finally:
        server.stop()
    assert not errors, errors
    assert sum(len(ids) for ids in accepted.values()) > 0

    again = start_server(tmp_path)
    try:
        with grpc.insecure_channel(again.address) as channel:
            stub = seed.pb_grpc.OrderServiceStub(channel)
            for user, ids in accepted.items():
                for order_id in ids:
                    found = stub.GetOrderDetails(
                        seed.pb.GetOrderDetailsRequest(user_id=user, order_id=order_id),
                        timeout=DEADLINE,
                        metadata=gateway_metadata(user),
                    )
                    assert found.order.order_id == order_id
    finally:
        assert again.stop() == 0
