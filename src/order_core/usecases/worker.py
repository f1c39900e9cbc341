"""What an order worker does with one delivered message, whatever the broker:
process it, retry it after a transient failure on the retry schedule, or give
it up (dead-letter) and fail the order with a reason."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from order_core.errors import DependencyUnavailable, OrderError
from order_core.events import OrderSubmitted, OutboxMessage
from order_core.usecases.common import Dependencies
from order_core.usecases.process import fail_order, process_order

__all__ = ["Disposition", "Handling", "handle_message"]


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


def handle_message(deps: Dependencies, message: OutboxMessage, retries_done: int) -> Handling:
    """Handle a message addressed to the order processor.

    Messages other than ``OrderSubmitted`` are acknowledged untouched. A
    transient failure is retried after ``policy.retry``'s next delay; once the
    retries are used up the order is failed with the reason and the message is
    dead-lettered. A message that can never succeed (unknown order, wrong
    owner) is dead-lettered at once instead of poisoning the queue.
    """
    event = message.event
    if not isinstance(event, OrderSubmitted):
        return _ACK
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
