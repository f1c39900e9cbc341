"""Reaching the machine's real services from tests.

A test that needs PostgreSQL, Redis or RabbitMQ asks for it here. When the
server does not answer, the test is skipped with the command that starts it,
unless ``ORDERS_REQUIRE_SERVICES=1`` (CI sets it): then it fails, so a
service-backed test can never pass by quietly not running.
"""

from __future__ import annotations

import os
import socket
import uuid

import pytest

POSTGRES_URL = os.environ.get(
    "ORDERS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("ORDERS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("ORDERS_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")

_START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log",
    "RabbitMQ": "rabbitmq-server -detached",
}
_PORTS = {"PostgreSQL": 5432, "Redis": 6379, "RabbitMQ": 5672}


def required() -> bool:
    return os.environ.get("ORDERS_REQUIRE_SERVICES") == "1"


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def need(service: str) -> None:
    """Skip (or, under ORDERS_REQUIRE_SERVICES=1, fail) unless ``service`` answers."""
    if _listening(_PORTS[service]):
        return
    message = (
        f"{service} is not reachable on 127.0.0.1:{_PORTS[service]}; start it with: "
        + _START[service]
    )
    if required():
        pytest.fail(message + " (ORDERS_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(message)


def unique_name(prefix: str) -> str:
    """A name no other test run uses (databases, schemas, key prefixes, queues)."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def closed_port() -> int:
    """A local port where nothing listens (for "dependency is down" tests)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
