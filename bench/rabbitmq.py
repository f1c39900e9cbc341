"""RabbitMQ publish and processing rates, in one run, on a vhost of its own.

1. raw pika, a confirm awaited after every publish (``BlockingChannel`` in
   confirm mode);
2. raw windowed confirms: the same bodies with up to ``--window`` publishes
   unconfirmed (pika's channel and its ack callback);
3. the relay draining a backlog of ``--backlog`` outbox rows from PostgreSQL
   (claim, build the bodies, publish windowed, mark sent): its rate and the
   ratio relay / raw windowed (target at least 0.5);
4. ``orders worker`` processes (1, then 2) executing ``--orders`` market
   orders already on ``orders.processing``: executed orders per second.

    python bench/rabbitmq.py [--messages 20000] [--backlog 10000] [--orders 450]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds redis.py and grpc.py: keep them from shadowing the real packages.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import os
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pika
import sqlalchemy as sa

from order_adapters.bootstrap import bootstrap
from order_adapters.rabbitmq import ConfirmingPublisher, Relay, declare
from order_adapters.rabbitmq.bodies import Envelope, envelopes
from order_adapters.rabbitmq.publisher import ConfirmChannel
from order_adapters.settings import Settings
from order_adapters.sql import upgrade
from order_adapters.sql.outbox import SqlOutbox
from order_adapters.topology import PROCESSING_QUEUE, Topology
from order_core import SubmitOrder

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get(
    "ORDERS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1/test"
)
AMQP = "amqp://guest:guest@127.0.0.1:5672"


def _ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def scratch() -> Iterator[tuple[str, str]]:
    """(amqp URL of a new vhost, URL of a new migrated PostgreSQL database)."""
    name = f"orders_bench_{uuid.uuid4().hex[:8]}"
    _ctl("add_vhost", name)
    _ctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    database = sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(database)
        yield f"{AMQP}/{urllib.parse.quote(name)}", database
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        _ctl("delete_vhost", name)


def _purge(url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    connection.channel().queue_purge(PROCESSING_QUEUE)
    connection.close()


def raw_one_confirm_each(url: str, bodies: list[bytes], properties: pika.BasicProperties) -> float:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.confirm_delivery()
    started = time.perf_counter()
    for body in bodies:
        channel.basic_publish("", PROCESSING_QUEUE, body, properties, mandatory=True)
    elapsed = time.perf_counter() - started
    connection.close()
    return len(bodies) / elapsed


def raw_windowed(url: str, envelope_list: list[Envelope], window: int) -> float:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    confirms = ConfirmChannel(connection, timeout=30)
    started = time.perf_counter()
    for envelope in envelope_list:
        if len(confirms.pending) >= window:
            confirms.wait(lambda: len(confirms.pending) < window)
        confirms.send(envelope)
    confirms.wait(lambda: not confirms.pending)
    elapsed = time.perf_counter() - started
    assert all(reason is None for _, reason in confirms.settled())
    connection.close()
    return len(envelope_list) / elapsed


def _submit(runtime: object, count: int, prefix: str) -> None:
    """``count`` market BUYs spread over 20 accounts of their own: one user's
    orders queue on that user's lock, which would hide what workers add."""
    service = runtime.service  # type: ignore[attr-defined]
    users = [uuid.uuid5(uuid.NAMESPACE_URL, f"bench-rabbitmq-{n}") for n in range(20)]
    for user in users:
        runtime.ledger.open_account(user, cash="100000000", if_missing=True)  # type: ignore[attr-defined]
    symbols = ("AAPL", "MSFT", "NVDA", "TSLA")
    for n in range(count):
        service.submit(
            SubmitOrder(
                user_id=users[n % len(users)],
                symbol=symbols[n % 4],
                order_type="MARKET",
                order_side="BUY",
                quantity="0.1",
                idempotency_key=f"{prefix}-{n}",
            )
        )


def _copy_backlog(engine: sa.Engine, rows: int) -> None:
    """``rows`` unsent copies of the first outbox row (new message ids)."""
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO order_outbox (message_id, event_type, aggregate_id, payload, created_at) "
            "SELECT gen_random_uuid(), event_type, aggregate_id, payload, created_at "
            f"FROM order_outbox, generate_series(1, {rows}) "
            "WHERE id = (SELECT min(id) FROM order_outbox)"
        )
        connection.exec_driver_sql("UPDATE order_outbox SET sent_at = now() WHERE id = 1")


def _executed(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        query = "SELECT count(*) FROM orders WHERE status = 'EXECUTED'"
        return int(connection.exec_driver_sql(query).scalar_one())


def workers_rate(amqp: str, database: str, orders: int, processes: int, prefix: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_")}
    env.update(ORDERS_DATABASE_URL=database, ORDERS_BROKER_URL=amqp)
    runtime = bootstrap(Settings.of(database_url=database, broker_url="memory://"))
    engine = sa.create_engine(database)
    before = _executed(engine)
    _submit(runtime, orders, prefix)
    command = [sys.executable, "-m", "order_cli.main", "worker"]
    workers = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    try:
        for worker in workers:  # timed from when every worker consumes
            assert worker.stdout is not None
            assert "consuming" in worker.stdout.readline()
        started = time.perf_counter()
        topology = Topology.build(runtime.service.dependencies.policy.retry)
        outbox = runtime.database.outbox
        assert isinstance(outbox, SqlOutbox)
        relay = Relay(outbox, ConfirmingPublisher(amqp, topology))
        while relay.run_once():
            pass
        relay.close()
        while _executed(engine) - before < orders:
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(30)
    runtime.close()
    engine.dispose()
    return orders / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--one-by-one", type=int, default=3000)
    parser.add_argument("--backlog", type=int, default=10000)
    parser.add_argument(
        "--orders", type=int, default=450, help="per run (the demo user may place 1000 a day)"
    )
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--batch", type=int, default=500, help="outbox rows per relay claim")
    arguments = parser.parse_args()
    with scratch() as (amqp, database):
        runtime = bootstrap(Settings.of(database_url=database, broker_url="memory://"))
        topology = Topology.build(runtime.service.dependencies.policy.retry)
        connection = pika.BlockingConnection(pika.URLParameters(amqp))
        declare(connection.channel(), topology)
        connection.close()
        _submit(runtime, 1, "template")
        engine = sa.create_engine(database)
        outbox = runtime.database.outbox
        assert isinstance(outbox, SqlOutbox)
        with outbox.claim(1) as batch:
            [template] = batch.messages
        [envelope] = envelopes(template, topology)
        print(f"body: {len(envelope.body)} bytes, persistent, to {envelope.routing_key}")

        one = raw_one_confirm_each(
            amqp, [envelope.body] * arguments.one_by_one, envelope.properties
        )
        _purge(amqp)
        print(f"raw pika, a confirm per message:    {one:9.0f} msg/s")
        windowed = raw_windowed(amqp, [envelope] * arguments.messages, arguments.window)
        _purge(amqp)
        print(f"raw pika, {arguments.window} confirms in flight:  {windowed:9.0f} msg/s")

        _copy_backlog(engine, arguments.backlog)
        publisher = ConfirmingPublisher(amqp, topology, window=arguments.window)
        relay = Relay(outbox, publisher, batch=arguments.batch)
        started = time.perf_counter()
        while relay.run_once():
            pass
        rate = relay.sent / (time.perf_counter() - started)
        relay.close()
        _purge(amqp)
        print(
            f"relay, {relay.sent} outbox rows:        {rate:9.0f} msg/s "
            f"(relay / raw windowed = {rate / windowed:.2f})"
        )
        runtime.close()
        engine.dispose()
        for processes in (1, 2):
            executed = workers_rate(
                amqp, database, arguments.orders, processes, f"workers{processes}"
            )
            label = f"orders worker x{processes}, {arguments.orders} orders:"
            print(f"{label:37}{executed:9.0f} executed/s")


if __name__ == "__main__":
    main()
