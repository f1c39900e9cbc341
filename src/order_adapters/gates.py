"""Idempotency gates composed from stores."""

from __future__ import annotations

import logging
from datetime import datetime

from order_core.errors import DependencyUnavailable
from order_core.ports import IdempotencyStore
from order_core.records import IdempotencyRecord

__all__ = ["DatabaseFallbackGate"]

_log = logging.getLogger(__name__)


class DatabaseFallbackGate:
    """A fast store (Redis) that, while it is unreachable, steps aside instead of
    failing submissions: the database's idempotency records then decide alone
    (they always have the last word). Without this wrapper an unreachable fast
    store fails submissions closed with ``DependencyUnavailable``."""

    def __init__(self, fast: IdempotencyStore) -> None:
        self._fast = fast

    @property
    def fast(self) -> IdempotencyStore:
        """The store this gate steps aside from while it is down."""
        return self._fast

    def begin(self, claim: IdempotencyRecord) -> IdempotencyRecord | None:
        try:
            return self._fast.begin(claim)
        except DependencyUnavailable as error:
            _log.warning("idempotency fast store unavailable, deciding in the database: %s", error)
            return None

    def reclaim(
        self, stale: IdempotencyRecord, claim: IdempotencyRecord
    ) -> IdempotencyRecord | None:
        try:
            return self._fast.reclaim(stale, claim)
        except DependencyUnavailable:
            return None

    def finish(self, record: IdempotencyRecord) -> bool:
        try:
            return self._fast.finish(record)
        except DependencyUnavailable:
            return False

    def release(self, key: str, token: str) -> bool:
        try:
            return self._fast.release(key, token)
        except DependencyUnavailable:
            return False

    def get(self, key: str, now: datetime) -> IdempotencyRecord | None:
        try:
            return self._fast.get(key, now)
        except DependencyUnavailable:
            return None
