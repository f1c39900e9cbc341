"""RabbitMQ for the adapter's tests: a vhost of its own per test module
(``rabbitmqctl add_vhost``, permissions for guest, deleted after), emptied
before each test; a PostgreSQL database per test; every message a test reads
validated against the seed's JSON Schema (``schemas/``)."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pika
import pika.exceptions
import pytest

from order_adapters.topology import Topology
from tests.services import RABBITMQ_URL, need, unique_name
from tests.sql_databases import temporary_postgres_database

pytestmark = pytest.mark.rabbitmq

SCHEMAS = {
    path.name.removesuffix(".json"): json.loads(path.read_text())
    for path in (Path(__file__).parent / "schemas").glob("*.json")
}
#: Retry delays for tests: milliseconds, four tiers as in production.
FAST_RETRIES = "0.05,0.1,0.15,0.2"


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def validate(queue: str, body: bytes) -> dict[str, Any]:
    """The body as JSON, checked against the seed's schema of ``queue``."""
    document: dict[str, Any] = json.loads(body)
    jsonschema.validate(document, SCHEMAS[queue])
    return document


@dataclass
class Vhost:
    name: str
    url: str
    connections: list[Any] = field(default_factory=list)

    def connect(self) -> Any:
        connection = pika.BlockingConnection(pika.URLParameters(self.url + "?socket_timeout=10"))
        self.connections.append(connection)
        return connection

    def channel(self) -> Any:
        return self.connect().channel()

    def drain(self, queue: str, *, validate_as: str | None = None) -> list[tuple[Any, Any, bytes]]:
        """Every message now in ``queue`` (taken off it), validated when asked."""
        channel = self.channel()
        taken: list[tuple[Any, Any, bytes]] = []
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return taken
            if validate_as is not None:
                validate(validate_as, body)
            taken.append((method, properties, body))

    def count(self, queue: str) -> int:
        return int(self.channel().queue_declare(queue, passive=True).method.message_count)

    def queues(self) -> dict[str, dict[str, Any]]:
        """Every queue of the vhost: its arguments, type and message count."""
        rows = rabbitmqctl(
            "list_queues", "-p", self.name, "name", "arguments", "messages", "--formatter", "json"
        )
        queues = {}
        for row in json.loads(rows):
            # 3.x lists each argument as [name, type, value].
            arguments = row["arguments"]
            if isinstance(arguments, list):
                row["arguments"] = {item[0]: item[-1] for item in arguments}
            queues[row["name"]] = row
        return queues

    def empty(self) -> None:
        """Delete every queue and the service's exchanges: a fresh broker."""
        channel = self.channel()
        for name in list(self.queues()):
            channel.queue_delete(name)
        for exchange in Topology.build().exchanges:
            channel.exchange_delete(exchange.name)

    def close(self) -> None:
        for connection in self.connections:
            try:
                if connection.is_open:
                    connection.close()
            except pika.exceptions.AMQPError:
                pass  # closed by the broker (close_all_connections)
        self.connections.clear()


@pytest.fixture(scope="module")
def module_vhost() -> Iterator[Vhost]:
    need("RabbitMQ")
    name = unique_name("orders_test")
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        base = RABBITMQ_URL.rsplit("/", 1)[0]
        yield Vhost(name, f"{base}/{urllib.parse.quote(name, safe='')}")
    finally:
        rabbitmqctl("delete_vhost", name)


@pytest.fixture
def vhost(module_vhost: Vhost) -> Iterator[Vhost]:
    module_vhost.empty()
    try:
        yield module_vhost
    finally:
        module_vhost.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    need("PostgreSQL")
    with temporary_postgres_database() as url:
        yield url


# -- the service, the relay and consumers in this process ---------------------------------


@dataclass
class Stack:
    """A service on the test's PostgreSQL database, and the relay and worker
    parts on the test's vhost, driven from the test."""

    runtime: Any
    vhost: Vhost
    topology: Topology
    publisher: Any
    relay: Any

    def relay_all(self) -> int:
        """Publish everything committed so far."""
        sent = 0
        while moved := self.relay.run_once():
            sent += moved
        return sent

    def declare(self) -> None:
        from order_adapters.rabbitmq import declare  # noqa: PLC0415

        declare(self.vhost.channel(), self.topology)

    def options(self, **changes: Any) -> Any:
        from order_adapters.rabbitmq.worker import WorkerOptions  # noqa: PLC0415

        return WorkerOptions(url=self.vhost.url, topology=self.topology, timeout=5.0, **changes)

    def close(self) -> None:
        self.relay.close()
        self.runtime.close()


@pytest.fixture
def stack(postgres_url: str, vhost: Vhost) -> Iterator[Stack]:
    from order_adapters.bootstrap import bootstrap  # noqa: PLC0415
    from order_adapters.rabbitmq import ConfirmingPublisher, Relay  # noqa: PLC0415
    from order_adapters.settings import Settings  # noqa: PLC0415
    from order_adapters.sql.outbox import SqlOutbox  # noqa: PLC0415

    settings = Settings.of(
        database_url=postgres_url, broker_url="memory://", broker_retry_delays=FAST_RETRIES
    )
    runtime = bootstrap(settings)
    assert isinstance(runtime.database.outbox, SqlOutbox)
    topology = Topology.build(runtime.service.dependencies.policy.retry)
    publisher = ConfirmingPublisher(vhost.url, topology, timeout=5.0, window=64)
    outbox = runtime.database.outbox  # a SqlOutbox: the database is PostgreSQL
    built = Stack(runtime, vhost, topology, publisher, Relay(outbox, publisher))
    try:
        yield built
    finally:
        built.close()
