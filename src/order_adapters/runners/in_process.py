"""Running the whole order flow inside one process (the ``memory://`` broker)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from order_adapters.memory.broker import InProcessBroker
from order_adapters.topology import POSITIONS_QUEUE, PROCESSING_QUEUE
from order_core.ports import Outbox
from order_core.service import OrderService

if TYPE_CHECKING:
    from order_adapters.runtime import Runtime

__all__ = ["InProcessProcessing"]


class InProcessProcessing:
    """Delivers committed outbox messages to in-process consumers: the order
    processor and, when the ledger is the service's own, the position keeper.

    A message is marked sent only after its consumers handled it, so a process
    that dies half-way leaves it in the outbox for the next pump (consumers
    are idempotent). :meth:`pump` runs everything that is ready; one thread
    pumps at a time."""

    def __init__(
        self,
        service: OrderService,
        outbox: Outbox,
        broker: InProcessBroker,
        *,
        keep_positions: bool = False,
        batch_size: int = 500,
    ) -> None:
        self.service = service
        self.outbox = outbox
        self.broker = broker
        self._batch_size = batch_size
        self._lock = threading.Lock()
        broker.subscribe(PROCESSING_QUEUE, service.handle_message)
        if keep_positions:
            broker.subscribe(POSITIONS_QUEUE, service.keep_position)

    @classmethod
    def of(cls, runtime: Runtime) -> InProcessProcessing:
        """The runner for a runtime wired with the ``memory://`` broker."""
        broker = runtime.publisher
        if not isinstance(broker, InProcessBroker):
            raise TypeError(f"in-process processing needs the memory:// broker, not {broker!r}")
        return cls(runtime.service, runtime.database.outbox, broker, keep_positions=True)

    def pump(self) -> int:
        """Deliver until nothing is ready (delayed retries that are not yet due
        stay queued; recovery finds them on the orders anyway); return how
        many deliveries were made."""
        delivered = 0
        with self._lock:
            while True:
                # Read without holding the claim: handlers write to the same
                # database (SQLite has one writer at a time).
                with self.outbox.claim(self._batch_size) as batch:
                    messages = list(batch.messages)
                if messages:
                    self.broker.publish(messages)
                handled = self.broker.deliver()
                if messages:
                    self.outbox.mark_sent([message.message_id for message in messages])
                delivered += handled
                if not messages and not handled:
                    return delivered
