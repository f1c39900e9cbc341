"""The JSON the SQL store keeps: outbox payloads (order events) and the
``response_data`` of idempotency records (a receipt or a stored rejection).

One cattrs converter, configured once: decimals as exact strings, UUIDs and
symbols as text, datetimes as ISO 8601 with their UTC offset, enums by value,
named tuples as objects keyed by field name.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import cattrs
from cattrs.cols import (
    is_namedtuple,
    namedtuple_dict_structure_factory,
    namedtuple_dict_unstructure_factory,
)

from order_core.events import EVENT_TYPES, OrderEvent, event_name
from order_core.results import SubmitReceipt
from order_core.rules.idempotency import StoredRejection
from order_core.values import Symbol

__all__ = [
    "event_from_json",
    "event_to_json",
    "response_from_json",
    "response_to_json",
]

JsonObject = dict[str, Any]

_converter = cattrs.Converter()
_converter.register_unstructure_hook_factory(is_namedtuple, namedtuple_dict_unstructure_factory)
_converter.register_structure_hook_factory(is_namedtuple, namedtuple_dict_structure_factory)
_converter.register_unstructure_hook(Decimal, str)
_converter.register_structure_hook(Decimal, lambda value, _: Decimal(value))
_converter.register_unstructure_hook(UUID, str)
_converter.register_structure_hook(UUID, lambda value, _: UUID(value))
_converter.register_unstructure_hook(datetime, datetime.isoformat)
_converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
_converter.register_unstructure_hook(Symbol, str)
_converter.register_structure_hook(Symbol, lambda value, _: Symbol(value))
_converter.register_unstructure_hook_func(
    lambda cls: isinstance(cls, type) and issubclass(cls, Enum), lambda member: member.value
)
# A rejection's limit and value: JSON already holds them as text, a number or null.
_converter.register_structure_hook(str | int | None, lambda value, _: value)


def event_to_json(event: OrderEvent) -> tuple[str, JsonObject]:
    """The event's seed name and its fields as JSON-ready data."""
    data: JsonObject = _converter.unstructure(event)
    return event_name(event), data


def event_from_json(event_type: str, data: JsonObject) -> OrderEvent:
    event: OrderEvent = _converter.structure(data, EVENT_TYPES[event_type])
    return event


def response_to_json(
    receipt: SubmitReceipt | None, rejection: StoredRejection | None
) -> JsonObject | None:
    """What an idempotency record answers with: a receipt or a rejection."""
    if receipt is not None:
        return {"receipt": _converter.unstructure(receipt._replace(replayed=False))}
    if rejection is not None:
        return {"rejection": _converter.unstructure(rejection)}
    return None


def response_from_json(
    data: JsonObject | None,
) -> tuple[SubmitReceipt | None, StoredRejection | None]:
    if not data:
        return None, None
    if "receipt" in data:
        return _converter.structure(data["receipt"], SubmitReceipt), None
    return None, _converter.structure(data["rejection"], StoredRejection)
