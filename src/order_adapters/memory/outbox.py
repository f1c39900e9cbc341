"""The in-memory outbox: messages a committed unit of work left for the relay."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from order_core.events import OutboxMessage

__all__ = ["InMemoryOutbox"]


@dataclass(slots=True)
class _Batch:
    outbox: InMemoryOutbox
    entries: list[tuple[int, OutboxMessage]]
    messages: Sequence[OutboxMessage] = field(init=False)

    def __post_init__(self) -> None:
        self.messages = [message for _, message in self.entries]

    def mark_sent(self) -> None:
        self.outbox._remove([sequence for sequence, _ in self.entries])


class InMemoryOutbox:
    """The outbox: messages appear when their unit of work commits and leave once
    marked sent. Claimed messages are invisible to other claimers until the
    claim ends. Thread-safe."""

    def __init__(self, lock: threading.RLock | None = None) -> None:
        self._lock = lock or threading.RLock()
        self._pending: dict[int, OutboxMessage] = {}
        self._sequence_of: dict[UUID, int] = {}
        self._claimed: set[int] = set()
        self._sequence = itertools.count()
        self.sent_count = 0

    def append(self, messages: Iterable[OutboxMessage]) -> None:
        with self._lock:
            self.append_locked(messages)

    def append_locked(self, messages: Iterable[OutboxMessage]) -> None:
        """:meth:`append` for a caller that holds the lock (a committing unit)."""
        pending, sequence, sequence_of = self._pending, self._sequence, self._sequence_of
        for message in messages:
            number = next(sequence)
            pending[number] = message
            sequence_of[message.message_id] = number

    @contextmanager
    def claim(self, limit: int) -> Iterator[_Batch]:
        with self._lock:
            entries = list(
                itertools.islice(
                    ((seq, msg) for seq, msg in self._pending.items() if seq not in self._claimed),
                    limit,
                )
            )
            self._claimed.update(sequence for sequence, _ in entries)
        batch = _Batch(self, entries)
        try:
            yield batch
        finally:
            with self._lock:
                self._claimed.difference_update(sequence for sequence, _ in entries)

    def mark_sent(self, message_ids: Sequence[UUID]) -> None:
        with self._lock:
            found = [self._sequence_of.get(message_id) for message_id in message_ids]
        self._remove([number for number in found if number is not None])

    def pending_count(self) -> int:
        with self._lock:
            return len(self._pending)

    def _remove(self, sequences: list[int]) -> None:
        with self._lock:
            for sequence in sequences:
                message = self._pending.pop(sequence, None)
                if message is not None:
                    del self._sequence_of[message.message_id]
                    self.sent_count += 1


if TYPE_CHECKING:
    from order_core.ports import Outbox

    def _implements(outbox: InMemoryOutbox) -> Outbox:
        return outbox
