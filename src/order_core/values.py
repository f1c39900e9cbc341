"""Value objects of the order domain: symbol, side, type, status, quantity, price.

Each has a ``parse`` classmethod for untrusted input that raises
:class:`~order_core.errors.InvalidInput` naming the field (the gRPC field names
of the seed contract: ``symbol``, ``order_side``, ``order_type``, ``quantity``,
``price``, ``stop_price``, ``user_id``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Self, TypeVar
from uuid import UUID

from order_core.decimals import format_decimal, parse_decimal
from order_core.errors import InvalidInput

__all__ = [
    "ALLOWED_TRANSITIONS",
    "PRICED_TYPES",
    "SIDES_BY_VALUE",
    "STATUSES_BY_VALUE",
    "STOP_TYPES",
    "TERMINAL_STATUSES",
    "TYPES_BY_VALUE",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Price",
    "Quantity",
    "Symbol",
    "parse_uuid",
]

_SYMBOL_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9.\-/]{0,19}")
#: Blanks dropped around parsed text: ASCII only, like the text itself.
_ASCII_BLANKS = " \t\n\r\f\v"
#: A UUID as text: 32 ASCII hex digits, dashes optional, in braces or after
#: ``urn:uuid:`` (what ``UUID()`` reads, without the digits of other scripts,
#: signs and ``_`` that its ``int(..., 16)`` would also take).
_UUID_TEXT = re.compile(
    r"(?:urn:uuid:)?(\{)?[0-9a-f]{8}(-?)[0-9a-f]{4}\2[0-9a-f]{4}\2[0-9a-f]{4}\2[0-9a-f]{12}"
    r"(?(1)\})",
    re.IGNORECASE | re.ASCII,
)


class Symbol(str):
    """A trading symbol: 1-20 characters (``orders.symbol`` is VARCHAR(20)),
    upper-case letters, digits and ``. - /``, starting with a letter or digit.

    A validated ``str`` subclass: immutable, hashed and compared as its text, so
    it is as cheap as a string as a dictionary key.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        if not isinstance(value, str) or not _SYMBOL_PATTERN.fullmatch(value):
            raise InvalidInput(
                f"symbol must be 1-20 characters of A-Z, 0-9, '.', '-' or '/', got {value!r}",
                code="INVALID_SYMBOL",
                field="symbol",
                value=str(value),
            )
        return super().__new__(cls, value)

    @classmethod
    def parse(cls, raw: object) -> Symbol:
        """Accept a Symbol or a string; surrounding blanks are dropped and the
        text is upper-cased (``" aapl"`` -> ``AAPL``). The text must be ASCII
        before it is upper-cased: Unicode case mapping turns the ligature
        ``"\ufb01"`` into ``"FI"`` and the long ``"\u017f"`` into ``"S"``."""
        if isinstance(raw, Symbol):
            return raw
        if not isinstance(raw, str):
            raise InvalidInput(
                f"symbol must be a string, got {raw!r}",
                code="INVALID_SYMBOL",
                field="symbol",
                value=str(raw),
            )
        return _symbol_from_text(raw)

    @property
    def value(self) -> str:
        """The plain text."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Symbol({str.__repr__(self)})"


@functools.lru_cache(maxsize=4096)
def _symbol_from_text(text: str) -> Symbol:
    # Few symbols are traded, so most submissions hit this cache; bad input raises
    # and is not cached.
    if not text.isascii():
        return Symbol(text)  # refused, naming the text as given
    return Symbol(text.strip(_ASCII_BLANKS).upper())


class _ParsableEnum(StrEnum):
    @classmethod
    def parse(cls, raw: object, *, field: str) -> Self:
        """Accept a member or its name in any case (``"buy"`` -> ``BUY``), in
        ASCII (``"\u017fell".upper()`` is ``"SELL"``)."""
        if isinstance(raw, cls):
            return raw
        if isinstance(raw, str) and raw.isascii():
            members = cls._value2member_map_
            member = members.get(raw) or members.get(raw.strip(_ASCII_BLANKS).upper())
            if member is not None:
                return member  # type: ignore[return-value]  # the map holds cls members
        allowed = ", ".join(member.value for member in cls)
        raise InvalidInput(
            f"{field} must be one of {allowed}, got {raw!r}",
            code=f"UNKNOWN_{field.upper()}",
            field=field,
            limit=allowed,
            value=str(raw),
        )


class OrderSide(_ParsableEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(_ParsableEnum):
    """MARKET (no price), LIMIT (price), STOP_LOSS (stop price),
    STOP_LIMIT (stop price and limit price)."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_LOSS = "STOP_LOSS"
    STOP_LIMIT = "STOP_LIMIT"

    @property
    def needs_price(self) -> bool:
        return self in PRICED_TYPES

    @property
    def needs_stop_price(self) -> bool:
        return self in STOP_TYPES


#: Types that carry a limit price, and types that carry a stop price. Checked
#: against these sets on hot paths: enum properties are slow to call.
PRICED_TYPES = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
STOP_TYPES = frozenset({OrderType.STOP_LOSS, OrderType.STOP_LIMIT})


class OrderStatus(_ParsableEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    EXECUTED = "EXECUTED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        """EXECUTED, FAILED and CANCELLED never move again."""
        return self in TERMINAL_STATUSES

    def can_become(self, target: OrderStatus) -> bool:
        return target in ALLOWED_TRANSITIONS[self]


TERMINAL_STATUSES = frozenset({OrderStatus.EXECUTED, OrderStatus.FAILED, OrderStatus.CANCELLED})

#: Members by their stored text: what stores use to restore orders (a plain
#: dict lookup, no parsing, as stored values were valid when written).
SIDES_BY_VALUE: dict[str, OrderSide] = {member.value: member for member in OrderSide}
TYPES_BY_VALUE: dict[str, OrderType] = {member.value: member for member in OrderType}
STATUSES_BY_VALUE: dict[str, OrderStatus] = {member.value: member for member in OrderStatus}

ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset(
        {OrderStatus.PROCESSING, OrderStatus.CANCELLED, OrderStatus.FAILED}
    ),
    OrderStatus.PROCESSING: frozenset(
        {OrderStatus.EXECUTED, OrderStatus.FAILED, OrderStatus.CANCELLED}
    ),
    OrderStatus.EXECUTED: frozenset(),
    OrderStatus.FAILED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


def _not_positive(field: str, value: Decimal) -> InvalidInput:
    return InvalidInput(
        f"{field} must be greater than 0, got {format_decimal(value)}",
        code="NOT_POSITIVE",
        field=field,
        limit=0,
        value=value,
    )


_Amount = TypeVar("_Amount", "Quantity", "Price")


def _trusted(cls: type[_Amount], value: Decimal) -> _Amount:
    """Build a Quantity or Price from a value ``parse_decimal`` already checked,
    without checking it again."""
    amount = object.__new__(cls)
    object.__setattr__(amount, "value", value)
    return amount


def _checked_amount(value: Decimal, field: str) -> Decimal:
    """``value`` with exactly 8 decimal places, if it is positive and fits them."""
    if not isinstance(value, Decimal):
        raise TypeError(f"{field} must be a Decimal, got {type(value).__name__}")
    checked = parse_decimal(value, field=field)  # rejects NaN, infinities, excess places
    if checked <= 0:
        raise _not_positive(field, checked)
    return checked


@dataclass(frozen=True, slots=True)
class Quantity:
    """How many units an order trades: > 0, at most 8 decimal places."""

    value: Decimal

    def __post_init__(self) -> None:
        # Always exactly 8 places, so equal quantities have equal text.
        object.__setattr__(self, "value", _checked_amount(self.value, "quantity"))

    @classmethod
    def parse(cls, raw: object) -> Quantity:
        if isinstance(raw, Quantity):
            return raw
        value = parse_decimal(raw, field="quantity")
        if value <= 0:
            raise _not_positive("quantity", value)
        return _trusted(cls, value)

    def __str__(self) -> str:
        return format_decimal(self.value)


@dataclass(frozen=True, slots=True)
class Price:
    """A price per unit: > 0, at most 8 decimal places."""

    value: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _checked_amount(self.value, "price"))

    @classmethod
    def parse(cls, raw: object, *, field: str = "price") -> Price:
        if isinstance(raw, Price):
            return raw
        value = parse_decimal(raw, field=field)
        if value <= 0:  # name the caller's field, not "price"
            raise _not_positive(field, value)
        return _trusted(cls, value)

    def __str__(self) -> str:
        return format_decimal(self.value)


def parse_uuid(raw: object, *, field: str) -> UUID:
    """Accept a UUID or its text form (ASCII hex digits); anything else is
    :class:`InvalidInput`."""
    if isinstance(raw, UUID):
        return raw
    if isinstance(raw, str):
        text = raw.strip(_ASCII_BLANKS)
        if _UUID_TEXT.fullmatch(text):
            return UUID(text)
    raise InvalidInput(
        f"{field} must be a UUID, got {raw!r}",
        code="INVALID_UUID",
        field=field,
        value=str(raw),
    )
