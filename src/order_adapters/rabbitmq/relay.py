"""The outbox relay: committed outbox rows to RabbitMQ, each marked sent only
after the broker confirmed every publish of it.

One pass claims a batch (oldest first, the ordering rule of
:mod:`order_adapters.sql.outbox`), publishes it with a window of confirms in
flight, and marks sent what was confirmed: a message whose publish failed
keeps every later message of the same order back too, so an order's messages
never overtake one another. With nothing to do the relay sleeps until
PostgreSQL notifies a commit to the outbox, or its poll interval passes
(SQLite polls). While the broker or the database is down it backs off
(0.5 s doubling to 10 s) and resumes by itself.

A crash between publish and mark re-sends the batch: delivery is at least
once, and every copy carries the same message id (consumers keep an inbox).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from order_adapters.rabbitmq.metrics import Metrics
from order_adapters.rabbitmq.publisher import ConfirmingPublisher
from order_core.errors import DependencyUnavailable, OrderError
from order_core.events import OutboxMessage

__all__ = ["FAULT_VARIABLE", "Relay"]

_log = logging.getLogger("order_adapters.rabbitmq")

#: Fault injection for tests: ``kill-after-publish:N`` SIGKILLs the process on
#: its Nth batch after the broker confirmed it and before the rows are marked.
FAULT_VARIABLE = "ORDERS_TEST_RELAY_FAULT"
_BACKOFF_FIRST, _BACKOFF_MAX = 0.5, 10.0
#: The longest single sleep: the broker connection is pumped between sleeps.
_SLICE = 1.0


class _Outbox(Protocol):
    def claim(self, limit: int) -> Any: ...

    def oldest_unsent_at(self) -> datetime | None: ...


class _Notifications(Protocol):
    def wait(self, seconds: float) -> bool: ...

    def close(self) -> None: ...


def sendable(messages: Sequence[OutboxMessage], confirmed: Sequence[UUID]) -> list[UUID]:
    """The confirmed messages that may be marked sent: none after a failed
    message of the same order (it will be sent again, and must come first)."""
    ok, blocked, marked = set(confirmed), set(), []
    for message in messages:
        order = message.event.order_id
        if message.message_id in ok and order not in blocked:
            marked.append(message.message_id)
        else:
            blocked.add(order)
    return marked


class Relay:
    """Runs passes until ``stop`` is set (``run``), or one at a time (``run_once``)."""

    def __init__(
        self,
        outbox: _Outbox,
        publisher: ConfirmingPublisher,
        *,
        batch: int = 500,
        poll_interval: float = 1.0,
        linger: float = 0.0,
        notifications: _Notifications | None = None,
        metrics: Metrics | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self.batch = batch
        self.poll_interval = poll_interval
        self.linger = linger
        self.notifications = notifications
        self.metrics = metrics or publisher.metrics
        self.stop = stop or threading.Event()
        self.sent = 0
        self._batches = 0
        self._fault = os.environ.get(FAULT_VARIABLE, "")
        self._age_checked = 0.0

    def run_once(self) -> int:
        """One pass: claim, publish, mark; how many messages were marked sent.
        Raises DependencyUnavailable when a part is down (after marking what
        was confirmed)."""
        with self.outbox.claim(self.batch) as claimed:
            messages = list(claimed.messages)
            if not messages:
                return 0
            outcome = self.publisher.publish_batch(messages)
            self._batches += 1
            self._maybe_crash()
            marked = sendable(messages, outcome.confirmed)
            claimed.mark_sent(marked)
        self.sent += len(marked)
        self.metrics.outbox_sent.inc(len(marked))
        for message_id, reason in outcome.failed.items():
            _log.warning("message %s not sent: %s", message_id, reason)
        if outcome.error is not None:
            raise outcome.error
        if len(marked) < len(messages):
            raise DependencyUnavailable(
                "broker", f"{len(messages) - len(marked)} of {len(messages)} messages not confirmed"
            )
        return len(marked)

    def run(self) -> None:
        """Relay until ``stop`` is set; a pass that finds a full batch runs the
        next at once. Otherwise, when commits are notified, the relay sleeps
        until the next one (each commit after a pass's claim notifies; claiming
        again at once would find nothing, a transaction wasted per pass);
        when it polls, only a pass that found nothing sleeps."""
        backoff = 0.0
        if self.notifications is not None:
            self.notifications.wait(0.0)  # listening before the first claim
        while not self.stop.is_set():
            try:
                sent = self.run_once()
                self._record_age()
            except OrderError as error:
                if not isinstance(error, DependencyUnavailable):
                    _log.error("relay: %s (%s)", error.message, error.code)
                else:
                    _log.warning("relay: %s; retrying", error.message)
                self.metrics.broker_down.labels("relay").inc()
                backoff = min(_BACKOFF_MAX, backoff * 2 or _BACKOFF_FIRST)
                self.stop.wait(backoff)
                continue
            backoff = 0.0
            if sent >= self.batch:
                continue
            if sent == 0 or self.notifications is not None:
                self._idle()

    def _idle(self) -> None:
        deadline = time.monotonic() + self.poll_interval
        while not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            step = min(remaining, _SLICE)
            if self.notifications is not None:
                if self.notifications.wait(step):
                    if self.linger:  # let the commits of this moment gather
                        self.stop.wait(self.linger)
                    return
            else:
                self.stop.wait(step)
            self.publisher.keepalive()

    def _record_age(self) -> None:
        now = time.monotonic()
        if now - self._age_checked < 1.0:
            return
        self._age_checked = now
        oldest = self.outbox.oldest_unsent_at()
        age = 0.0 if oldest is None else (datetime.now(UTC) - oldest).total_seconds()
        self.metrics.outbox_oldest_age.set(max(0.0, age))

    def _maybe_crash(self) -> None:
        kind, _, nth = self._fault.partition(":")
        if kind == "kill-after-publish" and self._batches >= int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)

    def close(self) -> None:
        if self.notifications is not None:
            self.notifications.close()
        self.publisher.close()
