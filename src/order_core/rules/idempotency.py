"""Idempotency rules (docs/library.md, "Idempotency"): keys, request fingerprints, and the decision
taken when a key is already held (the stored record is in :mod:`order_core.records`).

A key is scoped to its user. A client key ``K`` of user ``U`` is stored as
``"U:K"``; without a client key the seed's derived key
``SHA256(userID:symbol:orderType:orderSide:quantity:price)`` is used.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from order_core.commands import OrderRequest
from order_core.decimals import format_decimal
from order_core.errors import InvalidInput
from order_core.records import IdempotencyRecord, IdempotencyState
from order_core.values import Price

__all__ = [
    "MAX_CLIENT_KEY_LENGTH",
    "Verdict",
    "client_key",
    "derive_key",
    "judge",
    "request_fingerprint",
]

MAX_CLIENT_KEY_LENGTH = 200  # "uuid:" + key fits order_idempotency's VARCHAR(255)


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
