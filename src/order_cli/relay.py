"""``orders relay``: publish committed outbox messages to RabbitMQ (docs/rabbitmq.md)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import click

from order_adapters.settings import Settings
from order_adapters.urls import redacted, scheme_of
from order_cli.options import METRICS_PORT
from order_cli.state import runs, state

__all__ = ["relay", "stopping_on_signals"]

_log = logging.getLogger("order_cli")


def require_rabbitmq(settings: Settings, command: str) -> None:
    if scheme_of(settings.broker.url) not in ("amqp", "amqps"):
        raise click.UsageError(
            f"orders {command} needs a RabbitMQ broker: set ORDERS_BROKER_URL="
            f"amqp://user:password@host:5672/vhost (it is {redacted(settings.broker.url)})"
        )


@contextmanager
def stopping_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while the block runs."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        _log.info("signal %d: stopping", signum)
        stop.set()

    previous: dict[int, Callable[..., object] | int | None] = {
        signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@click.command()
@METRICS_PORT
@runs
def relay(metrics_port: int | None) -> None:
    """Publish committed outbox messages to RabbitMQ until SIGTERM or Ctrl-C.

    Each message is marked sent once the broker confirmed it; several relays
    may run at once. On PostgreSQL the relay wakes on each commit, otherwise
    it polls (ORDERS_BROKER_POLL_INTERVAL)."""
    try:
        from order_adapters.rabbitmq import Metrics, Relay, serve_metrics  # noqa: PLC0415
        from order_adapters.rabbitmq.wiring import publisher_for  # noqa: PLC0415
        from order_adapters.sql.outbox import OutboxNotifications  # noqa: PLC0415
    except ImportError as error:
        raise click.ClickException(
            f"orders relay needs the 'rabbitmq' extra: pip install 'order-service[rabbitmq]' "
            f"({error})"
        ) from error
    cli_state = state()
    settings = cli_state.settings()
    require_rabbitmq(settings, "relay")
    runtime = cli_state.runtime()
    engine = getattr(runtime.database, "engine", None)
    if engine is None:
        raise click.UsageError(
            "orders relay needs a database other processes can reach (PostgreSQL or SQLite), "
            "not memory://"
        )
    broker = settings.broker
    metrics = Metrics()
    if metrics_port is not None:
        serve_metrics(metrics, metrics_port)
    retry = runtime.service.dependencies.policy.retry
    publisher = publisher_for(broker, retry, name="orders-relay", metrics=metrics)
    notifications = (
        OutboxNotifications(engine, timeout=broker.timeout)
        if engine.dialect.name == "postgresql"
        else None
    )
    with stopping_on_signals() as stop:
        relaying = Relay(
            runtime.database.outbox,  # type: ignore[arg-type]  # a SqlOutbox here
            publisher,
            batch=broker.relay_batch,
            poll_interval=broker.poll_interval,
            linger=broker.relay_linger,
            notifications=notifications,
            metrics=metrics,
            stop=stop,
        )
        click.echo(f"orders: relaying the outbox to {redacted(broker.url)}")
        try:
            relaying.run()
        finally:
            relaying.close()
    click.echo(f"orders: relay stopped ({relaying.sent} messages sent)")
