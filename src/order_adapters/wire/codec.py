"""The one converter and the one JSON codec behind every document.

:data:`converter` turns records into JSON-ready documents and back: UUIDs and
symbols as text, enums by value, datetimes as RFC 3339 text with their UTC
offset (timezone-aware only), named tuples as objects keyed by field name, and
decimals as exact JSON numbers in plain notation (``150.25``, ``10``,
``0.00000001``). :func:`dumps` and :func:`loads` are msgspec's JSON encoder and
decoder; :func:`loads` reads every non-integer number as an exact ``Decimal``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final
from uuid import UUID

import cattrs
import msgspec
from cattrs.cols import (
    is_namedtuple,
    namedtuple_dict_structure_factory,
    namedtuple_dict_unstructure_factory,
)
from cattrs.strategies import configure_union_passthrough

from order_core.values import Symbol

__all__ = ["Document", "aware", "converter", "dumps", "loads", "plain_decimal"]

#: A JSON object as Python values, ready for :func:`dumps`.
Document = dict[str, Any]


def aware(moment: datetime) -> datetime:
    """``moment``, refused when naive: it would be read back in some other zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"documents need timezone-aware datetimes, got {moment!r}")
    return moment


def plain_decimal(value: Decimal) -> str:
    """``value`` in plain notation without trailing zeros, exactly
    (``Decimal("1E-8")`` -> ``"0.00000001"``, ``Decimal("150.10")`` -> ``"150.1"``)."""
    if not value.is_finite():
        raise ValueError(f"JSON has no number for {value!r}")
    text = format(value, "f")  # exact: no context, no rounding
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _decimal_number(value: Decimal) -> msgspec.Raw:
    # msgspec writes str(value), which turns scientific below 1E-6 ("1E-8"):
    # hand it the plain digits, still a JSON number.
    return msgspec.Raw(plain_decimal(value).encode())


def _decimal_from(value: object, _: type[Decimal]) -> Decimal:
    # A number read by loads (int or Decimal), or the text earlier versions wrote.
    # A float has already lost digits: refuse it.
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"a decimal must be a JSON number, got {value!r}")


def _datetime_text(moment: datetime) -> str:
    return aware(moment).isoformat()


def _datetime_from(value: object, _: type[datetime]) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"a datetime must be RFC 3339 text, got {value!r}")
    return aware(datetime.fromisoformat(value))


def _uuid_from(value: object, _: type[UUID]) -> UUID:
    if not isinstance(value, str):
        raise TypeError(f"a UUID must be text, got {value!r}")
    return UUID(value)


def _symbol_from(value: object, _: type[Symbol]) -> Symbol:
    if not isinstance(value, str):
        raise TypeError(f"a symbol must be text, got {value!r}")
    return Symbol(value)


def _is_enum(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, Enum)


def _make_converter() -> cattrs.Converter:
    made = cattrs.Converter()
    made.register_unstructure_hook_factory(is_namedtuple, namedtuple_dict_unstructure_factory)
    made.register_structure_hook_factory(is_namedtuple, namedtuple_dict_structure_factory)
    made.register_unstructure_hook(Decimal, _decimal_number)
    made.register_structure_hook(Decimal, _decimal_from)
    made.register_unstructure_hook(datetime, _datetime_text)
    made.register_structure_hook(datetime, _datetime_from)
    made.register_unstructure_hook(UUID, str)
    made.register_structure_hook(UUID, _uuid_from)
    made.register_unstructure_hook(Symbol, str.__str__)
    made.register_structure_hook(Symbol, _symbol_from)
    made.register_unstructure_hook_func(_is_enum, lambda member: member.value)
    made.register_structure_hook_func(_is_enum, lambda value, cls: cls(value))
    # A rejection's limit and value keep their JSON type: text, an integer or null.
    configure_union_passthrough(str | int | None, made)
    return made


#: The one converter between records and documents.
converter: Final = _make_converter()

_encoder: Final = msgspec.json.Encoder(decimal_format="number")
_decoder: Final = msgspec.json.Decoder(float_hook=Decimal)


def dumps(document: Any) -> bytes:
    """``document`` as compact UTF-8 JSON (the same document always gives the same bytes)."""
    return _encoder.encode(document)


def loads(data: str | bytes) -> Any:
    """The JSON ``data`` as Python values; numbers with a fraction or an exponent
    become exact ``Decimal``s, integers ``int``s."""
    return _decoder.decode(data)
