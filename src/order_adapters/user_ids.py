"""User ids as the platform writes them and as the service keeps them.

The platform names users by integers (``"42"``) or UUIDs; the service keeps
UUIDs. An integer ``n`` of up to 12 digits maps to the UUID
``00000000-0000-0000-0000-<n, 12 digits>`` and back, so every adapter that
speaks to the platform (gRPC, RabbitMQ) writes the id the platform sent.
"""

from __future__ import annotations

import re
from uuid import UUID

from order_core.errors import InvalidInput
from order_core.values import parse_uuid

__all__ = ["platform_user_id", "service_user_id"]

_DIGITS = re.compile(r"[0-9]{1,12}")
_INTEGER_PREFIX = "00000000-0000-0000-0000-"


def service_user_id(raw: str, *, field: str = "user_id") -> UUID:
    """The UUID of a user id as the platform sends it: an integer or a UUID.
    Anything else is :class:`~order_core.errors.InvalidInput` naming ``field``."""
    text = raw.strip()
    if _DIGITS.fullmatch(text):
        return UUID(f"{_INTEGER_PREFIX}{int(text):012d}")
    try:
        return parse_uuid(text, field=field)
    except InvalidInput:
        raise InvalidInput(
            f"{field} must be a whole number of at most 12 digits or a UUID, got {raw!r}",
            code="INVALID_USER_ID",
            field=field,
            value=raw,
        ) from None


def platform_user_id(user: UUID) -> str:
    """The user id as the platform writes it: ``n`` for a mapped integer, else
    the UUID (a UUID that merely starts with zeros stays a UUID)."""
    text = str(user)
    tail = text[len(_INTEGER_PREFIX) :]
    if text.startswith(_INTEGER_PREFIX) and tail.isdigit():
        return str(int(tail))
    return text
