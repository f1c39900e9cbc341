"""Running the whole order flow inside one process (the ``memory://`` broker)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from order_adapters.memory.broker import InProcessBroker
from order_adapters.topology import POSITIONS_QUEUE, PROCESSING_QUEUE
from order_core.events import OrderExecuted, OutboxMessage
from order_core.ports import Outbox
from order_core.service import OrderService
from order_core.usecases.relay import relay_outbox

if TYPE_CHECKING:
    from order_adapters.runtime import Runtime

__all__ = ["InProcessProcessing", "PositionKeeper"]


class PositionKeeper(Protocol):
    """Whoever applies executions to positions (the simulated ledgers do)."""

    def apply_execution(self, event: OrderExecuted) -> None: ...


class InProcessProcessing:
    """Relays committed outbox messages to an :class:`InProcessBroker` whose
    consumers are the order processor and, when positions are simulated, the
    position keeper. :meth:`pump` runs everything that is ready."""

    def __init__(
        self,
        service: OrderService,
        outbox: Outbox,
        broker: InProcessBroker,
        *,
        position_keeper: PositionKeeper | None = None,
        batch_size: int = 500,
    ) -> None:
        self.service = service
        self.outbox = outbox
        self.broker = broker
        self._batch_size = batch_size
        broker.subscribe(PROCESSING_QUEUE, service.handle_message)
        if position_keeper is not None:
            apply_execution = position_keeper.apply_execution

            def apply(message: OutboxMessage, _retries: int) -> None:
                assert isinstance(message.event, OrderExecuted)  # the queue's only event
                apply_execution(message.event)

            broker.subscribe(POSITIONS_QUEUE, apply)

    @classmethod
    def of(cls, runtime: Runtime) -> InProcessProcessing:
        """The runner for a runtime wired with the ``memory://`` broker."""
        broker = runtime.publisher
        if not isinstance(broker, InProcessBroker):
            raise TypeError(f"in-process processing needs the memory:// broker, not {broker!r}")
        return cls(runtime.service, runtime.database.outbox, broker, position_keeper=runtime.ledger)

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
