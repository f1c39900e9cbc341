"""Publishing to RabbitMQ with many confirms in flight, each with a deadline.

pika's ``BlockingChannel`` waits for the broker's confirm after every publish,
which caps a relay at about a thousand messages a second. :class:`ConfirmChannel`
uses the underlying channel of a blocking one (pika's ``Channel``, with its
``ack_nack_callback`` and return callback) and lets the caller keep many
publishes unconfirmed, pumping the connection only while it waits. Every
publish is ``mandatory``: a message no queue takes comes back
(``basic.return``, before its ack) and counts as a failure, as does a
``basic.nack``. A wait that outlives its deadline is DependencyUnavailable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pika

from order_adapters.rabbitmq.bodies import Envelope, envelopes
from order_adapters.rabbitmq.connection import BrokerRefused, connect, translate, translated
from order_adapters.rabbitmq.declare import declare
from order_adapters.rabbitmq.metrics import Metrics
from order_adapters.topology import Topology
from order_core.errors import DependencyUnavailable, OrderError
from order_core.events import OutboxMessage

__all__ = ["ConfirmChannel", "ConfirmingPublisher", "PublishOutcome", "close_quietly"]

_log = logging.getLogger("order_adapters.rabbitmq")
#: AMQP's reply code for an unroutable mandatory message.
NO_ROUTE = 312


def _noop() -> None:
    return None


class ConfirmChannel:
    """A channel in confirm mode on a ``BlockingConnection``, for one thread.
    :meth:`send` publishes without waiting; :meth:`wait` pumps the connection
    until a condition holds; :meth:`settled` hands over what the broker has
    answered since, each envelope with None (confirmed) or why it failed."""

    def __init__(self, connection: Any, timeout: float) -> None:
        self.connection = connection
        self.timeout = timeout
        self.pending: dict[int, Envelope] = {}
        self._next_tag = 1
        self._returned: dict[tuple[str, str, str], str] = {}
        self._settled: list[tuple[Envelope, str | None]] = []
        self._selected = False
        self._wake_when: Callable[[], bool] | None = None
        with translated():
            blocking = connection.channel()
            # pika's own channel under the blocking one: its confirm and return
            # callbacks, without BlockingChannel's wait after each publish.
            self.channel = blocking._impl
            self.channel.add_on_return_callback(self._on_return)
            self.channel.confirm_delivery(
                ack_nack_callback=self._on_confirm, callback=self._on_selected
            )
            self.wait(lambda: self._selected)

    @property
    def is_open(self) -> bool:
        return bool(self.connection.is_open and self.channel.is_open)

    def send(self, envelope: Envelope) -> None:
        self.channel.basic_publish(
            envelope.exchange,
            envelope.routing_key,
            envelope.body,
            properties=envelope.properties,
            mandatory=True,
        )
        self.pending[self._next_tag] = envelope
        self._next_tag += 1

    def wait(self, condition: Callable[[], bool]) -> None:
        """Pump the connection until ``condition()``, within ``timeout``."""
        deadline = time.monotonic() + self.timeout
        self._wake_when = condition
        try:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DependencyUnavailable("broker", f"no confirm within {self.timeout:g} s")
                self.connection.process_data_events(time_limit=min(remaining, 1.0))
        finally:
            self._wake_when = None

    def settled(self) -> list[tuple[Envelope, str | None]]:
        settled, self._settled = self._settled, []
        return settled

    def publish(self, envelope: Envelope) -> None:
        """Publish one message and wait for its confirm; BrokerRefused if no
        queue took it, DependencyUnavailable if it was nacked or not confirmed."""
        with translated():
            self.send(envelope)
            self.wait(lambda: not self.pending)
        for _, reason in self.settled():
            if reason is not None and reason.startswith("returned"):
                raise BrokerRefused(NO_ROUTE, f"{envelope.routing_key}: {reason}")
            if reason is not None:
                raise DependencyUnavailable("broker", reason)

    # -- callbacks (run inside process_data_events) ------------------------------------

    def _on_selected(self, _frame: Any) -> None:
        self._selected = True
        self._wake()

    def _on_return(self, _channel: Any, method: Any, properties: Any, _body: bytes) -> None:
        key = (str(properties.message_id), method.exchange, method.routing_key)
        self._returned[key] = f"returned {method.reply_code} {method.reply_text}"

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        tag, ack = method.delivery_tag, isinstance(method, pika.spec.Basic.Ack)
        tags = [t for t in self.pending if t <= tag] if method.multiple else [tag]
        for settled in tags:
            envelope = self.pending.pop(settled, None)
            if envelope is None:
                continue
            key = (str(envelope.message_id), envelope.exchange, envelope.routing_key)
            reason = self._returned.pop(key, None)
            if reason is None and not ack:
                reason = "nacked by the broker"
            self._settled.append((envelope, reason))
        self._wake()

    def _wake(self) -> None:
        # Ends process_data_events early once what the caller waits for holds.
        if self._wake_when is not None and self._wake_when():
            self.connection.add_callback_threadsafe(_noop)


@dataclass(slots=True)
class PublishOutcome:
    """What happened to a batch: the messages whose every publish the broker
    confirmed, those that failed (and why), and the error that cut the batch
    short, if any (what was not confirmed by then counts as failed)."""

    confirmed: list[UUID] = field(default_factory=list)
    failed: dict[UUID, str] = field(default_factory=dict)
    error: OrderError | None = None


class ConfirmingPublisher:
    """A :class:`~order_core.ports.MessagePublisher` on RabbitMQ with up to
    ``window`` confirms in flight. Connects (and declares the topology) on
    first use and again after a lost connection. For one thread."""

    def __init__(
        self,
        url: str,
        topology: Topology,
        *,
        timeout: float = 10.0,
        window: int = 256,
        queue_type: str = "classic",
        delivery_limit: int = 10,
        metrics: Metrics | None = None,
        name: str = "orders-relay",
    ) -> None:
        self.url = url
        self.topology = topology
        self.timeout = timeout
        self.window = max(1, window)
        self.queue_type = queue_type
        self.delivery_limit = delivery_limit
        self.metrics = metrics or Metrics()
        self.name = name
        self._confirms: ConfirmChannel | None = None

    def _open(self) -> ConfirmChannel:
        if self._confirms is not None and self._confirms.is_open:
            return self._confirms
        self.close()
        connection = connect(self.url, timeout=self.timeout, name=self.name)
        try:
            with translated():
                declare(
                    connection.channel(),
                    self.topology,
                    queue_type=self.queue_type,
                    delivery_limit=self.delivery_limit,
                )
            self._confirms = ConfirmChannel(connection, self.timeout)
        except BaseException:
            close_quietly(connection)
            raise
        return self._confirms

    def close(self) -> None:
        """Close the connection (unconfirmed publishes are abandoned)."""
        confirms, self._confirms = self._confirms, None
        if confirms is not None:
            close_quietly(confirms.connection)

    def keepalive(self) -> None:
        """Answer heartbeats and notice a lost connection while idle."""
        if self._confirms is None:
            return
        try:
            with translated():
                self._confirms.connection.process_data_events(time_limit=0)
        except OrderError:
            self.close()

    def publish_batch(self, messages: Sequence[OutboxMessage]) -> PublishOutcome:
        """Publish every route of every message with up to ``window`` confirms
        in flight and wait for them all."""
        outcome = PublishOutcome()
        if not messages:
            return outcome
        routes: dict[UUID, int] = {}
        settled: list[tuple[Envelope, str | None]] = []
        confirms: ConfirmChannel | None = None
        try:
            confirms = self._open()
            with translated():
                for message in messages:
                    published = envelopes(message, self.topology)
                    routes[message.message_id] = len(published)
                    for envelope in published:
                        if len(confirms.pending) >= self.window:
                            confirms.wait(lambda: len(confirms.pending) < self.window)
                        confirms.send(envelope)
                        self.metrics.published.labels(envelope.queue).inc()
                confirms.wait(lambda: not confirms.pending)
        except Exception as error:
            translation = translate(error)
            if translation is None:
                raise
            outcome.error = translation
            _log.warning("publishing stopped: %s", translation.message)
            self.close()
        if confirms is not None:
            settled = confirms.settled()
        failed: dict[UUID, str] = {}
        for envelope, reason in settled:
            if reason is None:
                self.metrics.confirmed.labels(envelope.queue).inc()
                routes[envelope.message_id] -= 1
            else:
                self.metrics.returned.labels(envelope.queue).inc()
                failed.setdefault(envelope.message_id, f"{envelope.queue}: {reason}")
        for message in messages:
            message_id = message.message_id
            if message_id in failed:
                outcome.failed[message_id] = failed[message_id]
            elif routes.get(message_id, 1) == 0:
                outcome.confirmed.append(message_id)
            else:
                outcome.failed[message_id] = "not confirmed"
        return outcome

    def publish(self, messages: Sequence[OutboxMessage]) -> None:
        """:meth:`MessagePublisher.publish`: returns once every message is
        confirmed; raises DependencyUnavailable (the broker is unreachable or
        did not confirm in time) or BrokerRefused (a message no queue takes)."""
        outcome = self.publish_batch(messages)
        if outcome.error is not None:
            raise outcome.error
        if outcome.failed:
            first = next(iter(outcome.failed.values()))
            detail = f"{len(outcome.failed)} of {len(messages)} messages failed, e.g. {first}"
            if "returned" in first:
                raise BrokerRefused(NO_ROUTE, detail)
            raise DependencyUnavailable("broker", detail)


def close_quietly(connection: Any) -> None:
    try:
        if connection.is_open:
            connection.close()
    except Exception as error:  # already gone: nothing left to release
        _log.debug("closing the broker connection: %s", error)
