"""Wiring of ``amqp://`` (and ``amqps://``): the RabbitMQ publisher.

Nothing connects here: ``orders submit`` only stores (the relay publishes, the
worker processes), so a command that never publishes never needs the broker.
"""

from __future__ import annotations

from contextlib import ExitStack

from order_adapters.rabbitmq.metrics import Metrics
from order_adapters.rabbitmq.publisher import ConfirmingPublisher
from order_adapters.settings import BrokerSettings, Settings
from order_adapters.topology import Topology
from order_adapters.urls import redacted
from order_core.policy import RetryPolicy
from order_core.ports import Clock

__all__ = ["open_broker", "publisher_for"]


def publisher_for(
    settings: BrokerSettings,
    retry: RetryPolicy,
    *,
    name: str = "orders",
    metrics: Metrics | None = None,
) -> ConfirmingPublisher:
    """A publisher on ``settings.url`` for the topology of ``retry``."""
    return ConfirmingPublisher(
        settings.url,
        Topology.build(retry),
        timeout=settings.timeout,
        window=settings.confirm_window,
        queue_type=settings.queue_type,
        delivery_limit=settings.delivery_limit,
        name=name,
        metrics=metrics,
    )


def open_broker(
    retry: RetryPolicy,
    clock: Clock,  # noqa: ARG001  # the broker keeps its own time
    resources: ExitStack,
    settings: BrokerSettings | None = None,
) -> tuple[ConfirmingPublisher, str]:
    # Until the composition root passes them, the environment's settings.
    broker = settings if settings is not None else Settings.from_env().broker
    publisher = publisher_for(broker, retry)
    resources.callback(publisher.close)
    return publisher, f"RabbitMQ {redacted(broker.url)} (stored here; `orders relay` publishes)"
