"""Declaring the messaging topology (:mod:`order_adapters.topology`) on RabbitMQ.

Queues the monolith declares (``Queue.shared``) are declared with exactly its
arguments and as classic queues, whatever ``queue_type`` says: the broker
refuses a second declaration that differs (406), so the service starts on a
broker that already holds them and leaves them as they are. The queues the
service adds (``orders.events``, the retry tiers) are classic by default, or
quorum queues with an explicit ``x-delivery-limit`` on a fresh broker.
"""

from __future__ import annotations

from typing import Any

from order_adapters.rabbitmq.connection import translated
from order_adapters.topology import Queue, Topology

__all__ = ["declare", "queue_arguments"]


def queue_arguments(queue: Queue, *, queue_type: str, delivery_limit: int) -> dict[str, Any]:
    """The arguments ``queue`` is declared with."""
    arguments = dict(queue.arguments)
    if not queue.shared and queue_type == "quorum":
        arguments["x-queue-type"] = "quorum"
        arguments["x-delivery-limit"] = delivery_limit
    return arguments


def declare(
    channel: Any, topology: Topology, *, queue_type: str = "classic", delivery_limit: int = 10
) -> None:
    """Declare every exchange, queue and binding of ``topology`` on ``channel``
    (a pika ``BlockingChannel``). Idempotent. Raises
    :class:`~order_adapters.rabbitmq.connection.BrokerRefused` naming the broker's
    reason when an object exists with another declaration."""
    with translated():
        for exchange in topology.exchanges:
            channel.exchange_declare(
                exchange.name, exchange_type=exchange.kind, durable=exchange.durable
            )
        for queue in topology.queues:
            channel.queue_declare(
                queue.name,
                durable=queue.durable,
                arguments=queue_arguments(
                    queue, queue_type=queue_type, delivery_limit=delivery_limit
                ),
            )
        for binding in topology.bindings:
            channel.queue_bind(binding.queue, binding.exchange, routing_key=binding.routing_key)
