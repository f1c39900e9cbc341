"""Orders through the real broker: the relay publishes what was committed, the
worker processes it; every message on the seed's queues validates against its
schema; transient failures pass through the retry tiers; what can never
succeed is dead-lettered at once."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pika
import pytest

from order_adapters.rabbitmq.bodies import REASON_HEADER, RETRIES_HEADER
from order_adapters.rabbitmq.worker import Consumer, WorkerOptions
from order_adapters.simulated.demo import DEMO_USER
from order_adapters.topology import (
    DEAD_LETTER_QUEUE,
    EVENTS_QUEUE,
    ORDERS_EXCHANGE,
    POSITIONS_QUEUE,
    PROCESSING_QUEUE,
    STATUS_QUEUE,
)
from order_core import OrderService, SubmitOrder
from order_core.errors import DependencyUnavailable
from tests.rabbitmq.conftest import Stack

pytestmark = pytest.mark.rabbitmq


def _submit(service: OrderService, **fields: Any) -> UUID:
    order = {"user_id": DEMO_USER, "symbol": "AAPL", "order_type": "MARKET", "order_side": "BUY"}
    return service.submit(SubmitOrder(**{"quantity": "1", **order, **fields})).order_id


def _status(stack: Stack, order_id: UUID) -> str:
    return str(stack.runtime.service.get_status(order_id, DEMO_USER).status)


def _until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@contextmanager
def consuming(service: OrderService, options: WorkerOptions) -> Iterator[Consumer]:
    """A consumer in a thread, stopped (drained) at the end of the block."""
    consumer = Consumer(service, options)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    assert consumer.consuming.wait(10)
    try:
        yield consumer
    finally:
        consumer.stop.set()
        thread.join(30)
        assert not thread.is_alive()


def test_every_message_has_the_seed_shape_and_the_routing_key(stack: Stack) -> None:
    channel = stack.vhost.channel()
    stack.declare()
    channel.queue_declare("capture")
    channel.queue_bind("capture", ORDERS_EXCHANGE, routing_key="order.#")
    service = stack.runtime.service
    bought = _submit(service)
    sold = _submit(service, order_side="SELL", symbol="MSFT", quantity="2")
    resting = _submit(service, order_type="LIMIT", price="175", quantity="3")
    assert stack.relay_all() == 3

    copies = stack.vhost.drain("capture", validate_as=PROCESSING_QUEUE)
    assert len(copies) == 3
    for method, properties, body in copies:
        document = json.loads(body)
        assert method.routing_key == f"order.{document['order_type']}.{document['order_side']}"
        assert properties.content_type == "application/json"
        assert properties.delivery_mode == 2
        assert properties.correlation_id == document["order_id"]
        assert properties.message_id == document["message_metadata"]["message_id"]
        assert properties.type == "OrderSubmittedEvent"
        assert properties.priority == (8 if document["order_type"] == "MARKET" else 5)
    with consuming(service, stack.options()):
        _until(lambda: _status(stack, bought) == "EXECUTED" == _status(stack, sold))
        _until(lambda: stack.vhost.count(PROCESSING_QUEUE) == 0)
    assert _status(stack, resting) == "PENDING"
    service.cancel(resting, DEMO_USER)
    stack.relay_all()

    positions = stack.vhost.drain(POSITIONS_QUEUE, validate_as=POSITIONS_QUEUE)
    assert sorted(json.loads(body)["order_id"] for _, _, body in positions) == sorted(
        [str(bought), str(sold)]
    )
    for _, _, body in positions:
        assert list(json.loads(body)) == sorted(json.loads(body))  # Go's map order
    events = stack.vhost.drain(EVENTS_QUEUE, validate_as=EVENTS_QUEUE)
    kinds = sorted(json.loads(body)["event_type"] for _, _, body in events)
    assert kinds == ["OrderCancelledEvent", "OrderExecutedEvent", "OrderExecutedEvent"]
    statuses = stack.vhost.drain(STATUS_QUEUE, validate_as=STATUS_QUEUE)
    assert sorted(json.loads(body)["status"] for _, _, body in statuses) == [
        "CANCELLED",
        "EXECUTED",
        "EXECUTED",
    ]


@dataclasses.dataclass
class FlakyMarket:
    """The market data, down for the first ``failures`` calls (all, if None)."""

    inner: Any
    failures: int | None
    calls: int = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.failures is None or self.calls <= self.failures:
                raise DependencyUnavailable("market data", "down for the test")
            return attribute(*args, **kwargs)

        return call


def _with_market(stack: Stack, market: FlakyMarket) -> OrderService:
    deps = stack.runtime.service.dependencies
    return OrderService(dataclasses.replace(deps, market_data=market))


def test_a_dependency_down_for_a_while_passes_through_the_tiers(stack: Stack) -> None:
    order_id = _submit(stack.runtime.service)
    stack.relay_all()
    market = FlakyMarket(stack.runtime.service.dependencies.market_data, failures=3)
    with consuming(_with_market(stack, market), stack.options()) as consumer:
        _until(lambda: _status(stack, order_id) == "EXECUTED")
    assert consumer.metrics.retried.labels("1")._value.get() >= 1
    assert stack.vhost.count(DEAD_LETTER_QUEUE) == 0


def test_a_dependency_down_for_good_dead_letters_and_fails_the_order(stack: Stack) -> None:
    order_id = _submit(stack.runtime.service)
    stack.relay_all()
    market = FlakyMarket(stack.runtime.service.dependencies.market_data, failures=None)
    with consuming(_with_market(stack, market), stack.options()):
        _until(lambda: stack.vhost.count(DEAD_LETTER_QUEUE) == 1)
    assert _status(stack, order_id) == "FAILED"
    [(_, properties, body)] = stack.vhost.drain(DEAD_LETTER_QUEUE, validate_as=PROCESSING_QUEUE)
    assert properties.headers[RETRIES_HEADER] == 4
    assert "market data" in properties.headers[REASON_HEADER]
    assert json.loads(body)["order_id"] == str(order_id)
    stack.relay_all()
    [(_, _, event)] = stack.vhost.drain(EVENTS_QUEUE, validate_as=EVENTS_QUEUE)
    assert json.loads(event)["event_type"] == "OrderFailedEvent"
    assert "market data" in json.loads(event)["event_data"]["reason"]


def test_a_poison_message_is_dead_lettered_at_once_and_the_next_is_processed(
    stack: Stack,
) -> None:
    stack.declare()
    channel = stack.vhost.channel()
    channel.basic_publish("", PROCESSING_QUEUE, b"{not json", pika.BasicProperties(delivery_mode=2))
    order_id = _submit(stack.runtime.service)
    stack.relay_all()
    with consuming(stack.runtime.service, stack.options()):
        _until(lambda: _status(stack, order_id) == "EXECUTED")
    [(_, properties, body)] = stack.vhost.drain(DEAD_LETTER_QUEUE)
    assert body == b"{not json"
    assert properties.headers[REASON_HEADER].startswith("undecodable")
    assert properties.headers.get(RETRIES_HEADER) is None


def test_the_relay_claims_once_per_notified_commit_not_again_at_once(stack: Stack) -> None:
    from order_adapters.rabbitmq import Relay  # noqa: PLC0415
    from order_adapters.sql.outbox import OutboxNotifications  # noqa: PLC0415

    stack.declare()
    outbox = stack.runtime.database.outbox
    claims: list[int] = []

    class CountedOutbox:
        def claim(self, limit: int) -> Any:
            claims.append(limit)
            return outbox.claim(limit)

        def oldest_unsent_at(self) -> Any:
            return outbox.oldest_unsent_at()

    notifications = OutboxNotifications(stack.runtime.database.engine)
    relay = Relay(CountedOutbox(), stack.publisher, poll_interval=30.0, notifications=notifications)
    notifications.wait(0.01)  # listening before the commits below
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    try:
        for attempt in range(5):
            before = relay.sent
            _submit(stack.runtime.service, idempotency_key=f"notified-{attempt}")
            _until(lambda before=before: relay.sent > before)
            time.sleep(0.1)
    finally:
        relay.stop.set()
        thread.join(35)
    # One pass per commit, and at most one more (a wake-up during a pass):
    # never the empty claim a pass used to make right after one that sent.
    assert relay.sent == 5
    assert len(claims) <= 6, claims
