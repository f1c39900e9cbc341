"""The ``memory://`` broker: queues inside the process.

Messages are routed as the messaging topology says (:mod:`order_adapters.topology`)
to the queues that have a consumer in this process; routes to queues nobody
here consumes are dropped, as nothing would ever read them.
:meth:`InProcessBroker.publish` only enqueues (the "confirm");
:meth:`InProcessBroker.deliver` runs the handlers. A handler's
answer decides what happens next: acknowledge, retry after a delay (delayed
deliveries wait in a time-ordered heap, so a long delay never holds back a short
one) or dead-letter. A handler that raises is dead-lettered with the error,
never redelivered forever.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from order_adapters.topology import Topology
from order_core.events import OutboxMessage
from order_core.ports import Clock
from order_core.usecases.worker import Disposition, Handling

__all__ = ["DeadLetter", "InProcessBroker", "MessageHandler"]

MessageHandler = Callable[[OutboxMessage, int], Handling | None]
"""Called with a message and the retries already done; None means acknowledged."""


_ACK = Handling(Disposition.ACK)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    queue: str
    message: OutboxMessage
    reason: str


@dataclass(slots=True)
class _Queue:
    name: str
    handler: MessageHandler
    ready: deque[tuple[OutboxMessage, int]]


class InProcessBroker:
    """A :class:`~order_core.ports.MessagePublisher` with in-process consumers."""

    def __init__(self, clock: Clock, topology: Topology | None = None) -> None:
        self._clock = clock
        self.topology = topology or Topology.build()
        self._lock = threading.Lock()
        self._queues: dict[str, _Queue] = {}
        self._delayed: list[tuple[datetime, int, str, OutboxMessage, int]] = []
        self._tiebreak = itertools.count()
        self._dead_letters: list[DeadLetter] = []
        self.published_count = 0

    def subscribe(self, queue: str, handler: MessageHandler) -> None:
        """Consume the topology's queue ``queue`` with ``handler``."""
        if queue not in {declared.name for declared in self.topology.queues}:
            raise ValueError(f"queue {queue!r} is not in the topology")
        with self._lock:
            if queue in self._queues:
                raise ValueError(f"queue {queue!r} already has a consumer")
            self._queues[queue] = _Queue(queue, handler, deque())

    def publish(self, messages: Sequence[OutboxMessage]) -> None:
        queues_of = self.topology.queues_of
        with self._lock:
            queues = self._queues
            for message in messages:
                for name in queues_of(message.event):
                    queue = queues.get(name)
                    if queue is not None:
                        queue.ready.append((message, 0))
            self.published_count += len(messages)

    def deliver(self, limit: int | None = None) -> int:
        """Deliver ready and due messages, queue by queue in publish order;
        return how many deliveries were made (at most ``limit``)."""
        self._promote_due()
        delivered = 0
        while limit is None or delivered < limit:
            item = self._next_ready()
            if item is None:
                break
            queue, message, retries = item
            self._settle(queue, message, retries, self._run(queue, message, retries))
            delivered += 1
        return delivered

    def pending(self) -> int:
        """Deliveries waiting, ready or delayed."""
        with self._lock:
            return sum(len(queue.ready) for queue in self._queues.values()) + len(self._delayed)

    def next_due(self) -> datetime | None:
        """When the earliest delayed delivery becomes due."""
        with self._lock:
            return self._delayed[0][0] if self._delayed else None

    @property
    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            return list(self._dead_letters)

    # -- internals ------------------------------------------------------------------------

    def _next_ready(self) -> tuple[_Queue, OutboxMessage, int] | None:
        with self._lock:
            for queue in self._queues.values():
                if queue.ready:
                    message, retries = queue.ready.popleft()
                    return queue, message, retries
        return None

    @staticmethod
    def _run(queue: _Queue, message: OutboxMessage, retries: int) -> Handling:
        try:
            return queue.handler(message, retries) or _ACK
        except Exception as error:  # a consumer must survive its handler's bugs
            return Handling(Disposition.DEAD_LETTER, reason=f"{type(error).__name__}: {error}")

    def _settle(
        self, queue: _Queue, message: OutboxMessage, retries: int, result: Handling
    ) -> None:
        with self._lock:
            if result.disposition is Disposition.RETRY:
                assert result.delay is not None
                due = self._clock.now() + result.delay
                entry = (due, next(self._tiebreak), queue.name, message, retries + 1)
                heapq.heappush(self._delayed, entry)
            elif result.disposition is Disposition.DEAD_LETTER:
                self._dead_letters.append(
                    DeadLetter(queue.name, message, result.reason or "dead-lettered")
                )

    def _promote_due(self) -> None:
        now = self._clock.now()
        with self._lock:
            while self._delayed and self._delayed[0][0] <= now:
                _, _, name, message, retries = heapq.heappop(self._delayed)
                self._queues[name].ready.append((message, retries))


if TYPE_CHECKING:
    from order_core.ports import MessagePublisher

    def _implements(broker: InProcessBroker) -> MessagePublisher:
        return broker
