"""The deadline of the call being served, so that an outbound call never
outlives its caller: a server sets it (:func:`caller_deadline`) around the work
of one call; every platform client takes the smaller of its own deadline and
what is left of this one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["caller_deadline", "time_left"]

#: Monotonic time by which the call being served must be answered.
_DEADLINE: ContextVar[float | None] = ContextVar("platform_caller_deadline", default=None)


@contextmanager
def caller_deadline(seconds: float | None) -> Iterator[None]:
    """Within the block, outbound calls end within ``seconds`` from now (None:
    the caller set no deadline). A nested, longer deadline cannot extend an
    outer one."""
    if seconds is None:
        yield
        return
    ends = time.monotonic() + max(0.0, seconds)
    outer = _DEADLINE.get()
    token = _DEADLINE.set(ends if outer is None else min(outer, ends))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left() -> float | None:
    """Seconds left of the caller's deadline (None: none set; may be <= 0)."""
    ends = _DEADLINE.get()
    return None if ends is None else ends - time.monotonic()
