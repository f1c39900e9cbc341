"""The in-memory :class:`~order_core.ports.Inbox`: handled message ids, written
at commit with the rest of the unit of work's changes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from order_adapters.memory.staging import StagedChanges

__all__ = ["InMemoryInbox"]


class InMemoryInbox:
    __slots__ = ("_staged",)

    def __init__(self, staged: StagedChanges) -> None:
        self._staged = staged

    def seen(self, message_id: UUID, consumer: str) -> bool:
        return (message_id, consumer) in self._staged.db.inbox

    def record(self, message_id: UUID, consumer: str, at: datetime) -> None:
        handled = self._staged.db.inbox

        def remember() -> None:
            handled.setdefault((message_id, consumer), at)

        self._staged.effects.append(remember)

    def forget_before(self, before: datetime) -> None:
        handled = self._staged.db.inbox

        def forget() -> None:
            for key in [key for key, at in handled.items() if at < before]:
                del handled[key]

        self._staged.effects.append(forget)
