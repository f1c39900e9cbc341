"""What goes on each queue for an outbox message, and back: the JSON bodies of
docs/contracts.md ("Message bodies") and their AMQP properties.

Every value is written by the wire converter (:mod:`order_adapters.wire.codec`):
decimals as exact JSON numbers, times RFC 3339 with their offset, integer
counters. User ids are written as the platform writes them (``n`` for a mapped
integer id). One outbox message keeps one id everywhere: the AMQP
``message_id``, ``message_metadata.message_id``, the envelope's ``event_id``;
every redelivery and every republish carries it, so consumers drop duplicates
by it. ``correlation_id`` is the order id, ``type`` the event's name.

A worker rebuilds the outbox message from the body alone
(:func:`message_from_delivery`): the processing body carries every field of
:class:`~order_core.events.OrderSubmitted` (``stop_price`` beside the seed's
fields, ``updated_at`` its time), the position body every field of
:class:`~order_core.events.OrderExecuted`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

import pika

from order_adapters.topology import (
    EVENTS_QUEUE,
    POSITIONS_QUEUE,
    PROCESSING_QUEUE,
    STATUS_QUEUE,
    Topology,
)
from order_adapters.user_ids import platform_user_id, service_user_id
from order_adapters.wire.codec import Document, converter, dumps, loads
from order_core.events import (
    OrderCancelled,
    OrderEvent,
    OrderExecuted,
    OrderFailed,
    OrderSubmitted,
    OutboxMessage,
    event_name,
)
from order_core.values import OrderStatus, OrderType

__all__ = [
    "RETRIES_HEADER",
    "Envelope",
    "Undecodable",
    "envelopes",
    "message_from_delivery",
    "processing_priority",
]

#: Our own attempt counter on a republished message (``x-death`` is the broker's,
#: and brokers from 3.13 on stop counting in it).
RETRIES_HEADER = "x-orders-retries"
#: Why a message was dead-lettered, and from where.
REASON_HEADER = "x-orders-reason"
SOURCE_QUEUE_HEADER = "x-orders-source-queue"
CONTENT_TYPE = "application/json"
PERSISTENT = 2
SOURCE = "order_service"

#: Order values from which a non-MARKET processing message gets priority 7 and 6.
_LARGE, _MEDIUM = Decimal(100_000), Decimal(10_000)


class Undecodable(ValueError):
    """A delivery that is not a message this service wrote (it can never succeed)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """One publish: where to, the body and its properties."""

    message_id: UUID
    exchange: str
    routing_key: str
    queue: str  # where the topology says it lands
    body: bytes
    properties: pika.BasicProperties


# -- bodies --------------------------------------------------------------------------------


def _fields(event: OrderEvent) -> Document:
    document: Document = converter.unstructure(event, type(event))
    document["user_id"] = platform_user_id(event.user_id)
    return document


def processing_priority(event: OrderSubmitted) -> int:
    """The monolith's priority of a processing message: 8 for MARKET; 7 or 6
    for a large order value (at least 100 000 or 10 000), else 5. (No queue has
    ``x-max-priority``, so the broker ignores it; consumers may read it.)"""
    if event.order_type is OrderType.MARKET:
        return 8
    price = event.price or event.market_price_at_submission or Decimal(0)
    value = event.quantity * price
    return 7 if value >= _LARGE else 6 if value >= _MEDIUM else 5


def _metadata(
    message: OutboxMessage, *, priority: int, source: str, kind: str, stage: str
) -> Document:
    return {
        "message_id": str(message.message_id),
        "correlation_id": str(message.event.order_id),
        "timestamp": converter.unstructure(message.event.occurred_at),
        "retry_attempt": 0,
        "priority": priority,
        "source": source,
        "message_type": kind,
        "processing_stage": stage,
    }


def _processing(message: OutboxMessage) -> tuple[Document, int]:
    event = message.event
    assert isinstance(event, OrderSubmitted)
    fields = _fields(event)
    priority = processing_priority(event)
    document: Document = {
        name: fields[name]
        for name in ("order_id", "user_id", "symbol", "order_side", "order_type", "quantity")
    }
    for optional in ("price", "stop_price"):  # omitted when none, as the monolith does
        if fields[optional] is not None:
            document[optional] = fields[optional]
    document["status"] = fields["status"]
    document["created_at"] = fields["created_at"]
    document["updated_at"] = fields["occurred_at"]
    for optional in ("market_price_at_submission", "market_data_timestamp"):
        if fields[optional] is not None:
            document[optional] = fields[optional]
    document["message_metadata"] = _metadata(
        message,
        priority=priority,
        source="order_producer",
        kind="order_processing",
        stage="processing",
    )
    return document, priority


def _position(message: OutboxMessage) -> tuple[Document, int]:
    event = message.event
    assert isinstance(event, OrderExecuted)
    fields = _fields(event)
    del fields["occurred_at"]  # the same moment as executed_at
    metadata = _metadata(
        message,
        priority=1,
        source="order_execution",
        kind="position_update",
        stage="initial",
    )
    fields["message_metadata"] = dict(sorted(metadata.items()))
    # Go encodes the position module's map with its keys sorted.
    return dict(sorted(fields.items())), 1


def _event_envelope(message: OutboxMessage) -> tuple[Document, int]:
    event = message.event
    occurred = converter.unstructure(event.occurred_at)
    document: Document = {
        "event_id": str(message.message_id),
        "event_type": event_name(event),
        "aggregate_id": str(event.order_id),
        "occurred_at": occurred,
        "event_data": _fields(event),
        "message_id": str(message.message_id),
        "correlation_id": str(event.order_id),
        "timestamp": occurred,
        "source": SOURCE,
    }
    return document, 5


_STATUS_OF: Mapping[type[OrderEvent], OrderStatus] = {
    OrderExecuted: OrderStatus.EXECUTED,
    OrderFailed: OrderStatus.FAILED,
    OrderCancelled: OrderStatus.CANCELLED,
    OrderSubmitted: OrderStatus.PENDING,
}


def _status(message: OutboxMessage) -> tuple[Document, int]:
    event = message.event
    document: Document = {
        "order_id": str(event.order_id),
        "user_id": platform_user_id(event.user_id),
        "symbol": str(event.symbol),
        "status": _STATUS_OF[type(event)].value,
    }
    previous = getattr(event, "previous_status", None)
    if previous is not None:
        document["previous_status"] = previous.value
    if isinstance(event, OrderFailed):
        document["reason"] = event.reason
    document["updated_at"] = converter.unstructure(event.occurred_at)
    document["message_metadata"] = _metadata(
        message, priority=8, source=SOURCE, kind="order_status", stage="status"
    )
    return document, 8


_BODIES: Mapping[str, Callable[[OutboxMessage], tuple[Document, int]]] = {
    PROCESSING_QUEUE: _processing,
    POSITIONS_QUEUE: _position,
    EVENTS_QUEUE: _event_envelope,
    STATUS_QUEUE: _status,
}


def _properties(message: OutboxMessage, queue: str, priority: int) -> pika.BasicProperties:
    event = message.event
    seconds = int(event.occurred_at.timestamp())
    kind = {PROCESSING_QUEUE: "order_processing", POSITIONS_QUEUE: "position_update"}.get(
        queue, event_name(event)
    )
    return pika.BasicProperties(
        content_type=CONTENT_TYPE,
        delivery_mode=PERSISTENT,
        message_id=str(message.message_id),
        correlation_id=str(event.order_id),
        type=event_name(event),
        timestamp=seconds,
        priority=priority,
        headers={"message_type": kind, "timestamp": seconds},
    )


def envelopes(message: OutboxMessage, topology: Topology) -> list[Envelope]:
    """Every publish the topology routes ``message`` to."""
    event = message.event
    published = []
    for route in topology.routes_of(event):
        document, priority = _BODIES[route.queue](message)
        routing_key = route.routing_key.format(
            order_type=event.order_type.value, order_side=event.order_side.value
        )
        published.append(
            Envelope(
                message.message_id,
                route.exchange,
                routing_key,
                route.queue,
                dumps(document),
                _properties(message, route.queue, priority),
            )
        )
    return published


# -- back from a delivery -----------------------------------------------------------------------


def message_from_delivery(queue: str, properties: Any, body: bytes) -> OutboxMessage:
    """The outbox message a processing or position body carries; raises
    :class:`Undecodable` for anything else (it would fail on every delivery)."""
    try:
        document = loads(body)
        if not isinstance(document, dict):
            raise Undecodable("the body is not a JSON object")
        metadata = document.get("message_metadata") or {}
        raw_id = getattr(properties, "message_id", None) or metadata.get("message_id")
        if not raw_id:
            raise Undecodable("no message_id")
        message_id = UUID(str(raw_id))
        if queue == POSITIONS_QUEUE:
            event: OrderEvent = _executed(document)
        else:
            event = _submitted(document)
    except Undecodable:
        raise
    except Exception as error:  # JSON, missing fields, bad values: all permanent
        raise Undecodable(f"{type(error).__name__}: {error}") from error
    return OutboxMessage(message_id, event)


def _event_fields(document: Document) -> Document:
    fields = dict(document)
    fields.pop("message_metadata", None)
    fields["user_id"] = str(service_user_id(str(fields["user_id"])))
    return fields


def _submitted(document: Document) -> OrderSubmitted:
    fields = _event_fields(document)
    fields["occurred_at"] = fields.pop("updated_at")
    for optional in (
        "price",
        "stop_price",
        "market_price_at_submission",
        "market_data_timestamp",
    ):
        fields.setdefault(optional, None)
    event: OrderSubmitted = converter.structure(fields, OrderSubmitted)
    return event


def _executed(document: Document) -> OrderExecuted:
    fields = _event_fields(document)
    fields["occurred_at"] = fields["executed_at"]
    event: OrderExecuted = converter.structure(fields, OrderExecuted)
    return event
