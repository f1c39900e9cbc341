"""Running the whole order flow inside one process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from order_adapters.memory.broker import InProcessBroker
from order_core.events import OrderExecuted, OrderSubmitted, OutboxMessage
from order_core.ports import Outbox
from order_core.service import OrderService
from order_core.usecases.relay import relay_outbox

__all__ = ["InProcessRuntime"]

PROCESSING_QUEUE = "orders.processing"


class _PositionKeeper(Protocol):
    def apply_execution(self, event: OrderExecuted) -> None: ...


POSITIONS_QUEUE = "positions.updates"


class InProcessRuntime:
    """Relays committed outbox messages to an :class:`InProcessBroker` whose
    consumers are the order processor and, when positions are simulated, the
    position keeper (anything with ``apply_execution(OrderExecuted)``, such as
    the simulated ledgers). :meth:`pump` runs everything that is ready."""

    def __init__(
        self,
        service: OrderService,
        outbox: Outbox,
        broker: InProcessBroker,
        *,
        position_keeper: _PositionKeeper | None = None,
        batch_size: int = 500,
    ) -> None:
        self.service = service
        self.outbox = outbox
        self.broker = broker
        self._batch_size = batch_size
        broker.subscribe(PROCESSING_QUEUE, [OrderSubmitted], service.handle_message)
        if position_keeper is not None:
            apply_execution: Callable[[OrderExecuted], None] = position_keeper.apply_execution

            def apply(message: OutboxMessage, _retries: int) -> None:
                assert isinstance(message.event, OrderExecuted)
                apply_execution(message.event)

            broker.subscribe(POSITIONS_QUEUE, [OrderExecuted], apply)

    def pump(self) -> int:
        """Relay and deliver until nothing is ready (delayed retries that are not
        yet due stay queued); return how many deliveries were made."""
        delivered = 0
        while True:
            relayed = relay_outbox(self.outbox, self.broker, batch_size=self._batch_size)
            handled = self.broker.deliver()
            delivered += handled
            if not relayed and not handled:
                return delivered
