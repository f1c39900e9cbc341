"""Idempotency rules (DESIGN §4): keys, request fingerprints, the stored record,
and the decision taken when a key is already held.

A key is scoped to its user. A client key ``K`` of user ``U`` is stored as
``"U:K"``; without a client key the seed's derived key
``SHA256(userID:symbol:orderType:orderSide:quantity:price)`` is used.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple
from uuid import UUID

from order_core.commands import OrderRequest
from order_core.decimals import format_decimal
from order_core.errors import (
    InvalidInput,
    OrderRejected,
    RiskRejected,
    ValidationRejected,
)
from order_core.results import SubmitReceipt
from order_core.values import Price

__all__ = [
    "IdempotencyRecord",
    "IdempotencyState",
    "MAX_CLIENT_KEY_LENGTH",
    "StoredRejection",
    "Verdict",
    "client_key",
    "derive_key",
    "judge",
    "request_fingerprint",
]

MAX_CLIENT_KEY_LENGTH = 200  # "uuid:" + key fits order_idempotency's VARCHAR(255)


class IdempotencyState(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class StoredRejection(NamedTuple):
    """A rule rejection kept so the same request is refused the same way again."""

    kind: str
    code: str
    message: str
    field: str | None
    limit: str | int | None
    value: str | int | None

    @classmethod
    def of(cls, error: OrderRejected) -> StoredRejection:
        data = error.to_dict()
        return cls(
            kind=error.kind,
            code=error.code,
            message=error.message,
            field=error.field,
            limit=data["limit"],
            value=data["value"],
        )

    def to_error(self) -> OrderRejected:
        """The rejection as the error class it was raised as (by its kind)."""
        error_class = _REJECTION_KINDS.get(self.kind, OrderRejected)
        return error_class(
            self.message, code=self.code, field=self.field, limit=self.limit, value=self.value
        )


_REJECTION_KINDS: dict[str, type[OrderRejected]] = {
    ValidationRejected.kind: ValidationRejected,
    RiskRejected.kind: RiskRejected,
}


class IdempotencyRecord(NamedTuple):
    """What a store keeps under a key. ``token`` identifies the submission that
    holds the key: only it may finish or release a PENDING record."""

    key: str
    user_id: UUID
    fingerprint: str
    state: IdempotencyState
    token: str
    created_at: datetime
    expires_at: datetime
    order_id: UUID | None = None
    receipt: SubmitReceipt | None = None
    rejection: StoredRejection | None = None

    @classmethod
    def pending(
        cls,
        *,
        key: str,
        user_id: UUID,
        fingerprint: str,
        token: str,
        now: datetime,
        ttl: timedelta,
    ) -> IdempotencyRecord:
        return cls(
            key=key,
            user_id=user_id,
            fingerprint=fingerprint,
            state=IdempotencyState.PENDING,
            token=token,
            created_at=now,
            expires_at=now + ttl,
        )

    def completed(self, receipt: SubmitReceipt) -> IdempotencyRecord:
        return self._replace(
            state=IdempotencyState.COMPLETED, order_id=receipt.order_id, receipt=receipt
        )

    def failed(self, rejection: StoredRejection) -> IdempotencyRecord:
        return self._replace(state=IdempotencyState.FAILED, rejection=rejection)

    def is_live(self, now: datetime) -> bool:
        return now < self.expires_at


def client_key(user_id: UUID, raw: object) -> str:
    """Scope a client-supplied key to its user. The key must be 1-200 printable
    ASCII characters without spaces."""
    if (
        not isinstance(raw, str)
        or not 1 <= len(raw) <= MAX_CLIENT_KEY_LENGTH
        or not (raw.isascii() and raw.isprintable())
        or " " in raw
    ):
        raise InvalidInput(
            "idempotency_key must be 1-200 printable ASCII characters without spaces",
            code="INVALID_IDEMPOTENCY_KEY",
            field="idempotency_key",
            limit=MAX_CLIENT_KEY_LENGTH,
            value=str(raw)[:MAX_CLIENT_KEY_LENGTH],
        )
    return f"{_user_text(user_id)}:{raw}"


# str(UUID) is formatted in Python; the same few users submit again and again.
_user_text = functools.lru_cache(maxsize=65536)(str)


def _text(price: Price | None) -> str:
    return "" if price is None else format_decimal(price.value)


def derive_key(request: OrderRequest) -> str:
    """The seed's key, SHA256 of ``userID:symbol:orderType:orderSide:quantity:price``
    (decimals without trailing zeros, an absent price as empty); a stop price
    is appended only when there is one, so seed order types keep the seed's key."""
    parts = [
        str(request.user_id),
        request.symbol.value,
        request.order_type.value,
        request.side.value,
        format_decimal(request.quantity.value),
        _text(request.price),
    ]
    if request.stop_price is not None:
        parts.append(_text(request.stop_price))
    return hashlib.sha256(":".join(parts).encode()).hexdigest()


def request_fingerprint(request: OrderRequest) -> str:
    """Everything that makes two submissions "the same request", as canonical
    text (``v1|AAPL|LIMIT|BUY|10.00000000|150.00000000|``): nothing in it is
    secret, so it is kept readable rather than hashed. The user is not part of
    it: every key is already scoped to one user. Amounts always carry exactly
    8 places, so their text is canonical."""
    price, stop = request.price, request.stop_price
    return (
        f"v1|{request.symbol}|{request.order_type._value_}|{request.side._value_}"
        f"|{request.quantity.value}|{'' if price is None else price.value}"
        f"|{'' if stop is None else stop.value}"
    )


class Verdict(StrEnum):
    """What to do with a submission whose key is already held by ``existing``."""

    REPLAY = "REPLAY"
    """Completed with the same request: answer with the stored receipt."""
    REPLAY_REJECTION = "REPLAY_REJECTION"
    """Rejected by a rule with the same request: raise the stored rejection."""
    KEY_REUSED = "KEY_REUSED"
    """The key was used for a different request."""
    IN_PROGRESS = "IN_PROGRESS"
    """The first submission is still running: tell the client to retry."""
    RECLAIM = "RECLAIM"
    """The first submission's owner crashed: take the key over."""


def judge(
    existing: IdempotencyRecord, fingerprint: str, now: datetime, lock_timeout: timedelta
) -> Verdict:
    """Decide for a live record (see :class:`Verdict`). A different request is
    refused even while the first is in flight."""
    if existing.fingerprint != fingerprint:
        return Verdict.KEY_REUSED
    if existing.state is IdempotencyState.COMPLETED:
        return Verdict.REPLAY
    if existing.state is IdempotencyState.FAILED:
        return Verdict.REPLAY_REJECTION
    if now - existing.created_at >= lock_timeout:
        return Verdict.RECLAIM
    return Verdict.IN_PROGRESS
