"""Faults with real processes, counted: ``orders relay`` and two ``orders
worker`` processes under load while a worker is SIGKILLed mid-batch, the
relay is killed between publish and mark (its fault hook), and the broker
closes every connection (``rabbitmqctl close_all_connections``). Afterwards
every acknowledged order is terminal or resting, each executed order has its
position update under exactly one message id, the audit is clean, and
SIGTERM stops a worker under load with exit 0 within 30 s, losing nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from order_adapters.bootstrap import bootstrap
from order_adapters.rabbitmq.relay import FAULT_VARIABLE
from order_adapters.settings import Settings
from order_adapters.simulated.demo import DEMO_USER
from order_adapters.topology import EVENTS_QUEUE, PROCESSING_QUEUE
from order_core import SubmitOrder
from order_core.errors import OrderError
from tests.rabbitmq.conftest import FAST_RETRIES, Vhost, rabbitmqctl, validate

pytestmark = pytest.mark.rabbitmq

ORDERS = [sys.executable, "-m", "order_cli.main"]
SYMBOLS = ("AAPL", "MSFT", "NVDA", "TSLA")
TERMINAL = ("EXECUTED", "FAILED", "CANCELLED")


class Processes:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.started: list[subprocess.Popen[str]] = []

    def start(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [*ORDERS, *args],
            env={**self.env, **extra},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(10)


def _environment(database: str, broker: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_")}
    env.update(
        ORDERS_DATABASE_URL=database,
        ORDERS_BROKER_URL=broker,
        ORDERS_BROKER_RETRY_DELAYS=FAST_RETRIES,
        ORDERS_BROKER_POLL_INTERVAL="0.2",
        ORDERS_STALE_AFTER="3",
    )
    return env


def _until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _statuses(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, status FROM orders").fetchall()
    return {str(row[0]): row[1] for row in rows}


def _unsent(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        query = "SELECT count(*) FROM order_outbox WHERE sent_at IS NULL"
        return int(connection.exec_driver_sql(query).scalar_one())


def test_killed_and_disconnected_processes_lose_and_duplicate_nothing(
    postgres_url: str, vhost: Vhost
) -> None:
    env = _environment(postgres_url, vhost.url)
    runtime = bootstrap(Settings.of(database_url=postgres_url, broker_url="memory://"))
    engine = sa.create_engine(postgres_url)
    processes = Processes(env)
    accepted: list[UUID] = []
    submitting = threading.Event()

    def submit_load(count: int, prefix: str) -> None:
        submitting.set()
        for n in range(count):
            try:
                receipt = runtime.service.submit(
                    SubmitOrder(
                        user_id=DEMO_USER,
                        symbol=SYMBOLS[n % len(SYMBOLS)],
                        order_type="MARKET",
                        order_side="SELL" if n % 3 == 0 else "BUY",
                        quantity=str(1 + n % 2),
                        idempotency_key=f"{prefix}-{n}",
                    )
                )
            except OrderError:
                continue  # refused: not acknowledged, nothing to account for
            accepted.append(receipt.order_id)
            time.sleep(0.01)

    try:
        relay = processes.start("relay", **{FAULT_VARIABLE: "kill-after-publish:3"})
        workers = [processes.start("worker", "--concurrency", "2") for _ in range(2)]
        load = threading.Thread(target=submit_load, args=(240, "load"))
        load.start()

        # The relay dies between a confirmed publish and its mark: start another.
        assert relay.wait(60) == -signal.SIGKILL
        relay = processes.start("relay")
        # A worker dies mid-batch: what it held unacknowledged is redelivered.
        _until(lambda: len(accepted) > 80, 60, "load")
        workers[0].kill()
        workers[0].wait(10)
        workers[0] = processes.start("worker", "--concurrency", "2")
        # The broker drops every connection: relay and workers reconnect.
        _until(lambda: len(accepted) > 160, 60, "load")
        rabbitmqctl("close_all_connections", "-p", vhost.name, "test: connections closed")
        load.join(120)

        def settled() -> bool:
            statuses = _statuses(engine)
            # Every order here is a MARKET order: settled means terminal.
            live = [o for o in accepted if statuses.get(str(o)) not in TERMINAL]
            return not live and _unsent(engine) == 0 and vhost.count(PROCESSING_QUEUE) == 0

        _until(settled, 60, "every order to settle")

        # SIGTERM under load: stop the workers while orders keep coming.
        backlog = len(accepted)
        submit_load_more = threading.Thread(target=submit_load, args=(60, "more"))
        submit_load_more.start()
        _until(lambda: len(accepted) > backlog + 20, 60, "more load")
        started = time.monotonic()
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            assert process.wait(30) == 0, process.stdout.read() if process.stdout else ""
        assert time.monotonic() - started < 30
        submit_load_more.join(60)
        # What was left is processed by a new worker: nothing was lost.
        processes.start("worker")
        _until(settled, 60, "the rest to settle after SIGTERM")
    finally:
        processes.stop_all()

    assert len(set(accepted)) == len(accepted)  # one order per key
    statuses = _statuses(engine)
    assert {statuses[str(o)] for o in accepted} <= set(TERMINAL)
    executed = [o for o in accepted if statuses[str(o)] == "EXECUTED"]
    assert len(executed) > len(accepted) // 2
    assert runtime.service.audit(runtime.ledger.books()) == []

    # One position update per executed order, under one message id however
    # often it was published (the events queue carries the same message).
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT aggregate_id, message_id FROM order_outbox "
            "WHERE event_type = 'OrderExecutedEvent'"
        ).fetchall()
    written: dict[str, set[str]] = defaultdict(set)
    for aggregate_id, message_id in rows:
        written[str(aggregate_id)].add(str(message_id))
    assert all(len(written[str(o)]) == 1 for o in executed)
    published: dict[str, set[str]] = defaultdict(set)
    copies = 0
    for _, properties, body in vhost.drain(EVENTS_QUEUE):
        document: dict[str, Any] = validate(EVENTS_QUEUE, body)
        if document["event_type"] == "OrderExecutedEvent":
            published[document["aggregate_id"]].add(properties.message_id)
            copies += 1
    assert set(published) == {str(o) for o in executed}
    assert all(published[str(o)] == written[str(o)] for o in executed)
    print(
        json.dumps(
            {
                "accepted": len(accepted),
                "executed": len(executed),
                "statuses": sorted(set(statuses.values())),
                "executed_event_copies": copies,
            }
        )
    )
    runtime.close()
    engine.dispose()
