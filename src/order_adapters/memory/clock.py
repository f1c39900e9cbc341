"""Clocks and id generators."""

from __future__ import annotations

import itertools
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

__all__ = ["ManualClock", "RandomIds", "SequentialIds", "SystemClock"]


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (tests, simulations)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 11, 4, 14, 30, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment


class RandomIds:
    """Random (version 4) UUIDs from the operating system's CSPRNG.

    Same ids as :func:`uuid.uuid4`, a few times faster: random bytes are read in
    blocks rather than 16 at a time, and each UUID is built from its integer
    without re-validating what was just constructed.
    """

    _BLOCK = 4096  # bytes: 256 ids per system call

    def __init__(self) -> None:
        self._numbers: list[int] = []

    def new_id(self) -> UUID:
        # list.pop is atomic, so threads never share a number; two threads
        # refilling at once merely discard one block.
        try:
            number = self._numbers.pop()
        except IndexError:
            block = os.urandom(self._BLOCK)
            numbers = [
                (int.from_bytes(block[i : i + 16]) & _CLEAR_VERSION) | _VERSION_4
                for i in range(0, self._BLOCK, 16)
            ]
            number = numbers.pop()
            self._numbers = numbers
        identifier = _new_uuid(UUID)
        _set(identifier, "int", number)
        _set(identifier, "is_safe", uuid.SafeUUID.unknown)
        return identifier


# Version 4, RFC 4122 variant: the bits uuid.UUID(version=4) would set.
_CLEAR_VERSION = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)
_new_uuid = object.__new__
_set = object.__setattr__  # UUID forbids attribute assignment after construction


class SequentialIds:
    """Predictable UUIDs ``00000000-0000-4000-8000-<counter>`` (tests, demos)."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)

    def new_id(self) -> UUID:
        # itertools.count is atomic under the GIL, so no lock is needed.
        return UUID(int=(0x4000 << 64) | (0x8000 << 48) | next(self._counter))


if TYPE_CHECKING:
    from order_core.ports import Clock, IdGenerator

    def _implements(
        system: SystemClock, manual: ManualClock, random: RandomIds, sequential: SequentialIds
    ) -> tuple[Clock, Clock, IdGenerator, IdGenerator]:
        return system, manual, random, sequential
