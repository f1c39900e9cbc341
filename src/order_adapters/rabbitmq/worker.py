"""The worker: consumes ``orders.processing`` (and ``positions.updates`` when
this service keeps the positions) and settles every delivery.

Each consumer has its own connection, a consuming channel with a prefetch and
a confirm channel for republishing. A delivery is handled outside pika's
callbacks (the callback only queues it), then:

- ACK: acknowledged;
- RETRY: republished to the next retry tier's queue with the attempt count in
  the ``x-orders-retries`` header (not ``x-death``), and acknowledged only once
  that publish is confirmed; the tier's TTL dead-letters it back to
  ``orders.processing``. A position update that cannot be applied now is
  acknowledged instead: the order stays marked unapplied and recovery applies it;
- DEAD_LETTER (retries used up, unknown order, wrong owner, a handler's bug) or
  a body that cannot be decoded: published, confirmed, to the dead-letter
  exchange with the reason in ``x-orders-reason``, then acknowledged;
- a dependency so far down that nothing was decided (the inbox unreadable):
  rejected back to the queue after a pause.

Every outcome is at least once: a crash before the ack redelivers, and the
inbox (the message id recorded with the effect) makes that change nothing. A
lost connection or a broker restart is survived by reconnecting, redeclaring
and consuming again, backing off 0.5 s doubling to 10 s. Setting ``stop``
cancels the consumers, finishes the deliveries in hand and closes (the
broker requeues whatever was prefetched and not yet handed over).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pika

from order_adapters.rabbitmq.bodies import (
    REASON_HEADER,
    RETRIES_HEADER,
    SOURCE_QUEUE_HEADER,
    Envelope,
    Undecodable,
    message_from_delivery,
)
from order_adapters.rabbitmq.connection import connect, translated
from order_adapters.rabbitmq.declare import declare
from order_adapters.rabbitmq.metrics import Metrics
from order_adapters.rabbitmq.publisher import ConfirmChannel, close_quietly
from order_adapters.topology import (
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTER_QUEUE,
    DEFAULT_EXCHANGE,
    POSITIONS_QUEUE,
    PROCESSING_QUEUE,
    Topology,
)
from order_core.errors import DependencyUnavailable, OrderError
from order_core.service import OrderService
from order_core.usecases.worker import Disposition, Handling

__all__ = ["Consumer", "WorkerOptions", "run_consumers"]

_log = logging.getLogger("order_adapters.rabbitmq")
_BACKOFF_FIRST, _BACKOFF_MAX = 0.5, 10.0
#: Seconds a delivery waits before going back to its queue when nothing could be decided.
REQUEUE_PAUSE = 1.0


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    url: str
    topology: Topology
    prefetch: int = 10
    timeout: float = 10.0
    queue_type: str = "classic"
    delivery_limit: int = 10
    keep_positions: bool = False


@dataclass(slots=True)
class _Delivery:
    queue: str
    method: Any
    properties: Any
    body: bytes
    received: float


class Consumer:
    """One consuming connection; :meth:`run` until ``stop`` is set."""

    def __init__(
        self,
        service: OrderService,
        options: WorkerOptions,
        *,
        metrics: Metrics | None = None,
        stop: threading.Event | None = None,
        name: str = "orders-worker",
    ) -> None:
        self.service = service
        self.options = options
        self.metrics = metrics or Metrics()
        self.stop = stop or threading.Event()
        self.name = name
        self.handled = 0
        self._connection: Any = None
        self._channel: Any = None
        self._confirms: ConfirmChannel | None = None
        self._tags: list[str] = []
        self._deliveries: deque[_Delivery] = deque()
        #: Set once consumers are registered (tests wait on it).
        self.consuming = threading.Event()

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        backoff = 0.0
        while not self.stop.is_set():
            try:
                self._open()
                backoff = 0.0
                while not self.stop.is_set():
                    with translated():
                        self._connection.process_data_events(time_limit=0.5)
                    self._handle_queued()
                self._drain()
            except OrderError as error:
                self.consuming.clear()
                self._deliveries.clear()  # unacked: the broker redelivers them
                self._close()
                if self.stop.is_set():
                    break
                self.metrics.broker_down.labels("worker").inc()
                backoff = min(_BACKOFF_MAX, backoff * 2 or _BACKOFF_FIRST)
                _log.warning("worker: %s; reconnecting in %.1f s", error.message, backoff)
                self.stop.wait(backoff)
        self._close()

    def _open(self) -> None:
        options = self.options
        self._connection = connect(options.url, timeout=options.timeout, name=self.name)
        with translated():
            channel = self._connection.channel()
            declare(
                channel,
                options.topology,
                queue_type=options.queue_type,
                delivery_limit=options.delivery_limit,
            )
            channel.basic_qos(prefetch_count=options.prefetch)
            self._confirms = ConfirmChannel(self._connection, options.timeout)
            queues = [PROCESSING_QUEUE] + ([POSITIONS_QUEUE] if options.keep_positions else [])
            self._tags = [
                channel.basic_consume(queue, functools.partial(self._on_message, queue))
                for queue in queues
            ]
            self._channel = channel
        self.consuming.set()

    def _drain(self) -> None:
        """Stop consuming, finish what was handed over, close."""
        with translated():
            for tag in self._tags:
                self._channel.basic_cancel(tag)
            self._handle_queued()
        self._close()

    def _close(self) -> None:
        connection, self._connection, self._channel, self._confirms = (
            self._connection,
            None,
            None,
            None,
        )
        if connection is not None:
            close_quietly(connection)

    def _on_message(
        self, queue: str, _channel: Any, method: Any, properties: Any, body: bytes
    ) -> None:
        # Only queued here: handling publishes and waits for confirms, which
        # must not happen inside pika's dispatch.
        self._deliveries.append(_Delivery(queue, method, properties, body, time.monotonic()))

    def _handle_queued(self) -> None:
        while self._deliveries:
            delivery = self._deliveries[0]
            with translated():
                outcome = self._handle(delivery)
            self._deliveries.popleft()
            self.handled += 1
            self.metrics.processed.labels(delivery.queue, outcome).inc()
            self.metrics.latency.labels(delivery.queue).observe(
                time.monotonic() - delivery.received
            )

    # -- one delivery -----------------------------------------------------------------------------

    def _handle(self, delivery: _Delivery) -> str:
        queue, method, properties = delivery.queue, delivery.method, delivery.properties
        headers = properties.headers or {}
        retries = _count(headers.get(RETRIES_HEADER))
        try:
            message = message_from_delivery(queue, properties, delivery.body)
        except Undecodable as error:
            self._dead_letter(delivery, f"undecodable: {error}")
            return "dead_letter"
        redelivered = bool(method.redelivered) or retries > 0
        handle: Callable[..., Handling] = (
            self.service.keep_position if queue == POSITIONS_QUEUE else self.service.handle_message
        )
        try:
            handling = handle(message, retries, redelivered=redelivered)
        except DependencyUnavailable as error:
            _log.warning("worker: nothing decided (%s); requeued", error.message)
            self.stop.wait(REQUEUE_PAUSE)
            self._channel.basic_nack(method.delivery_tag, requeue=True)
            return "requeue"
        except Exception as error:  # a handler's bug must not poison the queue
            _log.exception("worker: handling %s failed", message.message_id)
            handling = Handling(Disposition.DEAD_LETTER, reason=f"{type(error).__name__}: {error}")
        if handling.disposition is Disposition.RETRY and queue == PROCESSING_QUEUE:
            tier = self.options.topology.tier(retries + 1)
            if tier is not None:
                self._republish(delivery, tier.queue, {RETRIES_HEADER: retries + 1})
                self.metrics.retried.labels(str(tier.number)).inc()
                self._channel.basic_ack(method.delivery_tag)
                return "retry"
            handling = Handling(Disposition.DEAD_LETTER, reason=handling.reason or "gave up")
        if handling.disposition is Disposition.DEAD_LETTER:
            self._dead_letter(delivery, handling.reason or "dead-lettered")
            return "dead_letter"
        self._channel.basic_ack(method.delivery_tag)
        return "ack" if handling.disposition is Disposition.ACK else "deferred"

    def _dead_letter(self, delivery: _Delivery, reason: str) -> None:
        _log.warning("worker: dead-lettering a message from %s: %s", delivery.queue, reason)
        self._republish(
            delivery,
            DEAD_LETTER_QUEUE,
            {REASON_HEADER: reason[:1000], SOURCE_QUEUE_HEADER: delivery.queue},
            exchange=DEAD_LETTER_EXCHANGE,
        )
        self.metrics.dead_lettered.labels(delivery.queue).inc()
        self._channel.basic_ack(delivery.method.delivery_tag)

    def _republish(
        self,
        delivery: _Delivery,
        routing_key: str,
        headers: dict[str, Any],
        *,
        exchange: str = DEFAULT_EXCHANGE,
    ) -> None:
        """The delivery's body and properties (its message id kept) to
        ``routing_key``, confirmed before the caller acknowledges the original."""
        original = delivery.properties
        properties = pika.BasicProperties(
            content_type=original.content_type,
            delivery_mode=2,
            message_id=original.message_id,
            correlation_id=original.correlation_id,
            type=original.type,
            timestamp=original.timestamp,
            priority=original.priority,
            headers={**(original.headers or {}), **headers},
        )
        assert self._confirms is not None
        self._confirms.publish(
            Envelope(
                _message_uuid(original.message_id),
                exchange,
                routing_key,
                routing_key,
                delivery.body,
                properties,
            )
        )


def _count(raw: object) -> int:
    """A header's attempt count (0 when absent or not a number)."""
    return max(0, raw) if isinstance(raw, int) and not isinstance(raw, bool) else 0


def _message_uuid(raw: object) -> UUID:
    try:
        return UUID(str(raw))
    except ValueError:
        return UUID(int=0)  # a foreign message: no id of ours to keep


def run_consumers(
    service: OrderService,
    options: WorkerOptions,
    *,
    concurrency: int,
    metrics: Metrics,
    stop: threading.Event,
    recover: Callable[[], None] | None = None,
    recover_every: float = 30.0,
) -> list[Consumer]:
    """Run ``concurrency`` consumers in threads until ``stop``; meanwhile run
    ``recover`` (a recovery pass) now and every ``recover_every`` seconds.
    Returns once every consumer has finished."""
    consumers = [
        Consumer(service, options, metrics=metrics, stop=stop, name=f"orders-worker-{n}")
        for n in range(1, concurrency + 1)
    ]
    threads = [
        threading.Thread(target=consumer.run, name=consumer.name, daemon=True)
        for consumer in consumers
    ]
    for thread in threads:
        thread.start()
    while not stop.is_set():
        if recover is not None:
            try:
                recover()
            except OrderError as error:
                _log.warning("recovery is deferred (%s): %s", error.code, error.message)
        stop.wait(recover_every)
    for thread in threads:
        thread.join()
    return consumers
