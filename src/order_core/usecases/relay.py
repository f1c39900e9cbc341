"""Move committed outbox messages to the broker (the transactional outbox relay)."""

from __future__ import annotations

from order_core.ports import MessagePublisher, Outbox

__all__ = ["relay_outbox"]


def relay_outbox(outbox: Outbox, publisher: MessagePublisher, *, batch_size: int = 100) -> int:
    """Publish one batch of unsent messages, oldest first; return how many.

    Messages are marked sent only after the broker confirmed them, so a crash
    in between sends them again with the same message ids (at-least-once).
    """
    with outbox.claim(batch_size) as batch:
        messages = batch.messages
        if not messages:
            return 0
        publisher.publish(messages)
        batch.mark_sent()
        return len(messages)
