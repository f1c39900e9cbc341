"""The relay's and the worker's metrics (prometheus-client), served on
``--metrics-port``. Names in base units, counters ending ``_total``; labels
are queues, tiers and outcomes, never an order or user id."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Metric,
    start_http_server,
)

__all__ = ["Metrics", "serve_metrics"]


class Metrics:
    """One process's metrics in a registry of their own (so two relays in one
    test process never collide)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.published = Counter(
            "orders_broker_messages_published",
            "Messages handed to RabbitMQ (one per queue a message is routed to).",
            ["queue"],
            registry=r,
        )
        self.confirmed = Counter(
            "orders_broker_messages_confirmed",
            "Publishes RabbitMQ confirmed (basic.ack).",
            ["queue"],
            registry=r,
        )
        self.returned = Counter(
            "orders_broker_messages_returned",
            "Publishes RabbitMQ returned as unroutable or refused (basic.return, basic.nack).",
            ["queue"],
            registry=r,
        )
        self.outbox_sent = Counter(
            "orders_outbox_messages_sent",
            "Outbox rows marked sent after every publish of theirs was confirmed.",
            registry=r,
        )
        self.outbox_oldest_age = Gauge(
            "orders_outbox_oldest_unsent_age_seconds",
            "Age of the oldest outbox row not yet sent (0 when none).",
            registry=r,
        )
        self.broker_down = Counter(
            "orders_broker_unavailable",
            "Times the broker (or the database) could not be reached and the process backed off.",
            ["process"],
            registry=r,
        )
        self.processed = Counter(
            "orders_worker_messages_processed",
            "Deliveries handled, by queue and outcome (ack, retry, dead_letter, requeue).",
            ["queue", "outcome"],
            registry=r,
        )
        self.retried = Counter(
            "orders_worker_messages_retried",
            "Messages republished to a retry tier, by tier number.",
            ["tier"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "orders_worker_messages_dead_lettered",
            "Messages sent to the dead-letter queue, by the queue they came from.",
            ["queue"],
            registry=r,
        )
        self.latency = Histogram(
            "orders_worker_processing_seconds",
            "Time from delivery to settlement (ack after any confirmed republish).",
            ["queue"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )


class _ProcessWide:
    """The process-wide registry's metrics (the platform clients' breakers,
    stamina's retries) served beside this process's own."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def serve_metrics(metrics: Metrics, port: int, address: str = "127.0.0.1") -> None:
    """Serve ``/metrics`` on ``address:port`` from a daemon thread."""
    metrics.registry.register(_ProcessWide())
    start_http_server(port, addr=address, registry=metrics.registry)
