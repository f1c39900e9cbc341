"""RabbitMQ adapters (pika): the topology declared on a broker the monolith
already uses, the outbox relay with windowed publisher confirms, and the
worker with tiered retries, a dead-letter queue and an inbox (docs/rabbitmq.md).

Needs the ``rabbitmq`` extra: ``pip install 'order-service[rabbitmq]'``.
"""

try:
    import pika  # noqa: F401
    import prometheus_client  # noqa: F401
except ImportError as missing:
    raise ImportError(
        "order_adapters.rabbitmq needs pika and prometheus-client; install the extra with "
        "`pip install 'order-service[rabbitmq]'`"
    ) from missing

from order_adapters.rabbitmq.connection import BrokerRefused
from order_adapters.rabbitmq.declare import declare
from order_adapters.rabbitmq.metrics import Metrics, serve_metrics
from order_adapters.rabbitmq.publisher import ConfirmingPublisher, PublishOutcome
from order_adapters.rabbitmq.relay import Relay

__all__ = [
    "BrokerRefused",
    "ConfirmingPublisher",
    "Metrics",
    "PublishOutcome",
    "Relay",
    "declare",
    "serve_metrics",
]
