"""The messaging topology, broker-neutral and defined once: exchanges, queues
with their arguments, bindings, where each event is routed, and the retry
tiers. The in-process broker routes by it; a RabbitMQ adapter declares it.

Queues the monolith already declares carry exactly the monolith's arguments
(a broker refuses a second declaration with other arguments), see
docs/contracts.md. Everything else is added by the service: the seed's topic
exchange ``orders.exchange``, the dead-letter exchange the monolith names but
never declares, ``orders.events`` and one retry queue per delay tier (a
per-message TTL in one shared queue expires only at its head, so a long delay
would hold back a short one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

from order_core.events import (
    OrderCancelled,
    OrderEvent,
    OrderExecuted,
    OrderFailed,
    OrderSubmitted,
)
from order_core.policy import RetryPolicy

__all__ = [
    "DEAD_LETTER_EXCHANGE",
    "DEAD_LETTER_QUEUE",
    "DEFAULT_EXCHANGE",
    "EVENTS_QUEUE",
    "ORDERS_EXCHANGE",
    "POSITIONS_QUEUE",
    "PROCESSING_QUEUE",
    "STATUS_QUEUE",
    "Binding",
    "Exchange",
    "Queue",
    "RetryTier",
    "Route",
    "Topology",
    "processing_routing_key",
]

#: The broker's nameless exchange: a message sent to it with a queue's name
#: as routing key lands in that queue (how the monolith publishes).
DEFAULT_EXCHANGE = ""
ORDERS_EXCHANGE = "orders.exchange"
DEAD_LETTER_EXCHANGE = "orders.dlq.exchange"
POSITIONS_DEAD_LETTER_EXCHANGE = "positions.dlq.exchange"

SUBMIT_QUEUE = "orders.submit"
PROCESSING_QUEUE = "orders.processing"
SETTLEMENT_QUEUE = "orders.settlement"
STATUS_QUEUE = "orders.status"
DEAD_LETTER_QUEUE = "orders.dlq"
MONOLITH_RETRY_QUEUE = "orders.retry"
POSITIONS_QUEUE = "positions.updates"
POSITIONS_DEAD_LETTER_QUEUE = "positions.updates.dlq"
POSITIONS_RETRY_QUEUE = "positions.retry"
EVENTS_QUEUE = "orders.events"

_TO_ORDERS_DLQ: Mapping[str, object] = MappingProxyType(
    {"x-dead-letter-exchange": DEAD_LETTER_EXCHANGE, "x-dead-letter-routing-key": DEAD_LETTER_QUEUE}
)


@dataclass(frozen=True, slots=True)
class Exchange:
    name: str
    kind: str  # "topic" or "direct"
    durable: bool = True


@dataclass(frozen=True, slots=True)
class Queue:
    name: str
    arguments: Mapping[str, object] = field(default_factory=dict)
    #: Declared by the monolith (or its position module) with exactly these
    #: arguments; the service must not declare it any other way.
    shared: bool = False
    durable: bool = True


@dataclass(frozen=True, slots=True)
class Binding:
    exchange: str
    queue: str
    routing_key: str


@dataclass(frozen=True, slots=True)
class RetryTier:
    """A queue where a message waits ``delay`` (the queue's fixed TTL) before
    it is dead-lettered back to ``orders.processing``."""

    number: int  # 1 for the first retry
    queue: str
    delay: timedelta


@dataclass(frozen=True, slots=True)
class Route:
    """Where one kind of event is published: to ``exchange`` with
    ``routing_key`` (a pattern with ``{order_type}`` and ``{order_side}``)."""

    exchange: str
    routing_key: str
    queue: str  # the queue this route lands in


def processing_routing_key(order_type: str, order_side: str) -> str:
    """The seed's routing key of a processing message: ``order.MARKET.BUY``."""
    return f"order.{order_type}.{order_side}"


def tier_queue(delay: timedelta) -> str:
    """``orders.retry.5m``, ``orders.retry.1h``, ``orders.retry.250ms``: named by delay."""
    milliseconds = round(delay.total_seconds() * 1000)
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if milliseconds and milliseconds % size == 0:
            return f"{MONOLITH_RETRY_QUEUE}.{milliseconds // size}{unit}"
    return f"{MONOLITH_RETRY_QUEUE}.{milliseconds}ms"


@dataclass(frozen=True, slots=True)
class Topology:
    """Everything the service declares and where it publishes each event."""

    exchanges: Sequence[Exchange]
    queues: Sequence[Queue]
    bindings: Sequence[Binding]
    retry_tiers: Sequence[RetryTier]
    routes: Mapping[type[OrderEvent], Sequence[Route]]

    @classmethod
    def build(cls, retry: RetryPolicy | None = None) -> Topology:
        """The topology with one retry tier per delay of ``retry``."""
        delays = (retry or RetryPolicy()).delays
        tiers = tuple(
            RetryTier(number, tier_queue(delay), delay)
            for number, delay in enumerate(delays, start=1)
        )
        back_to_processing = {
            "x-dead-letter-exchange": DEFAULT_EXCHANGE,
            "x-dead-letter-routing-key": PROCESSING_QUEUE,
        }
        queues = (
            Queue(SUBMIT_QUEUE, _TO_ORDERS_DLQ, shared=True),
            Queue(PROCESSING_QUEUE, _TO_ORDERS_DLQ, shared=True),
            Queue(SETTLEMENT_QUEUE, _TO_ORDERS_DLQ, shared=True),
            Queue(STATUS_QUEUE, shared=True),
            Queue(DEAD_LETTER_QUEUE, shared=True),
            Queue(MONOLITH_RETRY_QUEUE, back_to_processing, shared=True),
            Queue(
                POSITIONS_QUEUE,
                {
                    "x-dead-letter-exchange": POSITIONS_DEAD_LETTER_EXCHANGE,
                    "x-dead-letter-routing-key": POSITIONS_DEAD_LETTER_QUEUE,
                    "x-max-length": 100000,
                },
                shared=True,
            ),
            Queue(POSITIONS_DEAD_LETTER_QUEUE, shared=True),
            Queue(
                POSITIONS_RETRY_QUEUE,
                {
                    "x-dead-letter-exchange": DEFAULT_EXCHANGE,
                    "x-dead-letter-routing-key": POSITIONS_QUEUE,
                },
                shared=True,
            ),
            Queue(EVENTS_QUEUE),
            *(
                Queue(
                    tier.queue,
                    {
                        **back_to_processing,
                        "x-message-ttl": round(tier.delay.total_seconds() * 1000),
                    },
                )
                for tier in tiers
            ),
        )
        to_processing = Route(ORDERS_EXCHANGE, "order.{order_type}.{order_side}", PROCESSING_QUEUE)
        to_positions = Route(DEFAULT_EXCHANGE, POSITIONS_QUEUE, POSITIONS_QUEUE)
        to_events = Route(DEFAULT_EXCHANGE, EVENTS_QUEUE, EVENTS_QUEUE)
        to_status = Route(DEFAULT_EXCHANGE, STATUS_QUEUE, STATUS_QUEUE)
        return cls(
            exchanges=(
                Exchange(ORDERS_EXCHANGE, "topic"),
                Exchange(DEAD_LETTER_EXCHANGE, "direct"),
            ),
            queues=queues,
            bindings=(
                Binding(ORDERS_EXCHANGE, PROCESSING_QUEUE, processing_routing_key("*", "*")),
                Binding(DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE, DEAD_LETTER_QUEUE),
            ),
            retry_tiers=tiers,
            routes=MappingProxyType(
                {
                    OrderSubmitted: (to_processing,),
                    OrderExecuted: (to_positions, to_events, to_status),
                    OrderFailed: (to_events, to_status),
                    OrderCancelled: (to_events, to_status),
                }
            ),
        )

    def routes_of(self, event: OrderEvent) -> Sequence[Route]:
        return self.routes.get(type(event), ())

    def queues_of(self, event: OrderEvent) -> tuple[str, ...]:
        """The queues an event lands in."""
        return tuple(route.queue for route in self.routes_of(event))

    def tier(self, number: int) -> RetryTier | None:
        """Retry tier ``number`` (1-based), or None past the last."""
        return self.retry_tiers[number - 1] if 0 < number <= len(self.retry_tiers) else None
