"""What a worker does with one delivered message, whatever the broker: process
it, retry it after a transient failure on the retry schedule, or give it up
(dead-letter) and fail the order with a reason; and the position keeper's
part when the ledger is the service's own.

Delivery is at least once. Each consumer records a message's id in its inbox
in the transaction of the message's effect (execution, failure, position
applied), and a redelivered message already recorded is acknowledged without
touching the order, the market or the money.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, NamedTuple, TypeAlias, TypeVar
from uuid import UUID

from order_core.dependencies import Dependencies
from order_core.errors import DependencyUnavailable, OrderError
from order_core.events import OrderEvent, OrderExecuted, OrderSubmitted, OutboxMessage
from order_core.usecases.positions import apply_position_update
from order_core.usecases.process import process_order, schedule_retry

__all__ = [
    "HANDLERS",
    "POSITION_KEEPER",
    "PROCESSOR",
    "Delivery",
    "Disposition",
    "Handler",
    "Handling",
    "execute_submitted",
    "handle_message",
    "keep_position",
]


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

#: The inbox's consumer names.
PROCESSOR = "order-processor"
POSITION_KEEPER = "position-keeper"


class Delivery(NamedTuple):
    """One delivery of a message: its stable id, the retries already done
    (earlier deliveries that asked to retry) and whether the broker may have
    delivered it before (then the inbox is read first)."""

    message_id: UUID
    retries_done: int = 0
    redelivered: bool = False


_E = TypeVar("_E", bound=OrderEvent)

#: One step of the worker: (dependencies, the message's event, its delivery) -> handling.
Handler: TypeAlias = Callable[[Dependencies, _E, Delivery], Handling]


def handle_message(
    deps: Dependencies, message: OutboxMessage, retries_done: int, *, redelivered: bool = False
) -> Handling:
    """Handle a message addressed to the order worker with the step
    :data:`HANDLERS` names for its event type; other messages are acknowledged
    untouched. ``retries_done`` counts the earlier deliveries that asked to retry."""
    event = message.event
    handler = HANDLERS.get(type(event))
    if handler is None:
        return _ACK
    delivery = Delivery(message.message_id, retries_done, redelivered)
    if redelivered and _already_handled(deps, delivery, PROCESSOR):
        return _ACK
    return handler(deps, event, delivery)


def _already_handled(deps: Dependencies, delivery: Delivery, consumer: str) -> bool:
    with deps.unit_of_work() as uow:
        return uow.inbox.seen(delivery.message_id, consumer)


def execute_submitted(deps: Dependencies, event: OrderSubmitted, delivery: Delivery) -> Handling:
    """Process a submitted order.

    A transient failure is recorded on the order (its next attempt is due after
    ``policy.retry``'s next delay, whoever picks it up) and the message asks to
    be delivered again then; once the retries are used up the order is failed
    with the reason and the message is dead-lettered. A message that can never
    succeed (unknown order, wrong owner) is dead-lettered at once instead of
    poisoning the queue.
    """
    try:
        process_order(
            deps, event.order_id, user_id=event.user_id, handled=(delivery.message_id, PROCESSOR)
        )
    except DependencyUnavailable as error:
        return _retry(deps, event, delivery.retries_done, error)
    except OrderError as error:
        return Handling(Disposition.DEAD_LETTER, reason=f"{error.code}: {error.message}")
    return _ACK


def _retry(
    deps: Dependencies, event: OrderSubmitted, retries_done: int, error: DependencyUnavailable
) -> Handling:
    try:
        decision = schedule_retry(deps, event.order_id, error.message)
    except DependencyUnavailable:
        # Not even recorded (the database is down too): the broker's own delay,
        # and recovery finds the order when it is stale.
        delay = deps.policy.retry.delay_before_retry(retries_done)
        if delay is None:
            return Handling(Disposition.DEAD_LETTER, reason=f"gave up: {error.message}")
        return Handling(Disposition.RETRY, delay=delay, reason=error.message)
    if decision.delay is not None:
        return Handling(Disposition.RETRY, delay=decision.delay, reason=error.message)
    if decision.failure is not None:
        return Handling(Disposition.DEAD_LETTER, reason=decision.failure)
    return _ACK  # the order moved on meanwhile


def keep_position(
    deps: Dependencies, message: OutboxMessage, retries_done: int, *, redelivered: bool = False
) -> Handling:
    """The position keeper of a service-owned ledger: apply an executed order
    to the holding, once however often it is delivered. If it cannot now, the
    order stays marked unapplied and recovery applies it later."""
    event = message.event
    if not isinstance(event, OrderExecuted):
        return _ACK
    delivery = Delivery(message.message_id, retries_done, redelivered)
    if redelivered and _already_handled(deps, delivery, POSITION_KEEPER):
        return _ACK
    try:
        apply_position_update(deps, event.order_id, handled=(message.message_id, POSITION_KEEPER))
    except DependencyUnavailable as error:
        delay = deps.policy.retry.delay_before_retry(retries_done)
        if delay is None:
            return Handling(Disposition.DEAD_LETTER, reason=error.message)
        return Handling(Disposition.RETRY, delay=delay, reason=error.message)
    return _ACK


#: What the order worker does with a message, by its event's type: a new step
#: is a handler and one entry here.
HANDLERS: Mapping[type[OrderEvent], Handler[Any]] = {
    OrderSubmitted: execute_submitted,
}
