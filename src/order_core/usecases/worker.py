"""What an order worker does with one delivered message, whatever the broker:
process it, retry it after a transient failure on the retry schedule, or give
it up (dead-letter) and fail the order with a reason."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeAlias, TypeVar

from order_core.dependencies import Dependencies
from order_core.errors import DependencyUnavailable, OrderError
from order_core.events import OrderEvent, OrderSubmitted, OutboxMessage
from order_core.usecases.process import fail_order, process_order

__all__ = ["HANDLERS", "Disposition", "Handler", "Handling", "execute_submitted", "handle_message"]


class Disposition(StrEnum):
    ACK = "ACK"
    RETRY = "RETRY"
    DEAD_LETTER = "DEAD_LETTER"


@dataclass(frozen=True, slots=True)
class Handling:
    disposition: Disposition
    delay: timedelta | None = None
    reason: str | None = None


_ACK = Handling(Disposition.ACK)

_E = TypeVar("_E", bound=OrderEvent)

#: One step of the worker: (dependencies, the message's event, retries done) -> handling.
Handler: TypeAlias = Callable[[Dependencies, _E, int], Handling]


def handle_message(deps: Dependencies, message: OutboxMessage, retries_done: int) -> Handling:
    """Handle a message addressed to the order worker with the step
    :data:`HANDLERS` names for its event type; other messages are acknowledged
    untouched. ``retries_done`` counts the earlier deliveries that asked to retry."""
    event = message.event
    handler = HANDLERS.get(type(event))
    if handler is None:
        return _ACK
    return handler(deps, event, retries_done)


def execute_submitted(deps: Dependencies, event: OrderSubmitted, retries_done: int) -> Handling:
    """Process a submitted order.

    A transient failure is retried after ``policy.retry``'s next delay; once the
    retries are used up the order is failed with the reason and the message is
    dead-lettered. A message that can never succeed (unknown order, wrong
    owner) is dead-lettered at once instead of poisoning the queue.
    """
    try:
        process_order(deps, event.order_id, user_id=event.user_id)
    except DependencyUnavailable as error:
        delay = deps.policy.retry.delay_before_retry(retries_done)
        if delay is not None:
            return Handling(Disposition.RETRY, delay=delay, reason=error.message)
        reason = f"gave up after {retries_done} retries: {error.message}"
        # If this fails too, the order stays as it is and a later sweep resumes it.
        with contextlib.suppress(OrderError):
            fail_order(deps, event.order_id, reason)
        return Handling(Disposition.DEAD_LETTER, reason=reason)
    except OrderError as error:
        return Handling(Disposition.DEAD_LETTER, reason=f"{error.code}: {error.message}")
    return _ACK


#: What the order worker does with a message, by its event's type: a new step
#: is a handler and one entry here.
HANDLERS: Mapping[type[OrderEvent], Handler[Any]] = {
    OrderSubmitted: execute_submitted,
}
