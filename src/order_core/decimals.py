"""Exact decimal arithmetic for money and quantities.

Every amount the service stores fits the tables' ``DECIMAL(18, 8)``: at most
8 decimal places and 10 integer digits. Input is converted without ever passing
through binary floating point (a ``float`` is read through ``repr``, which gives
the shortest string that round-trips), and arithmetic runs in a context wide
enough that products of two column values are exact before they are rounded.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from order_core.errors import InvalidInput

__all__ = [
    "MAX_INTEGER_DIGITS",
    "QUANTUM",
    "SCALE",
    "format_decimal",
    "multiply",
    "parse_decimal",
    "round_amount",
]

SCALE = 8
MAX_INTEGER_DIGITS = 10
QUANTUM = Decimal(1).scaleb(-SCALE)
_UPPER_BOUND = Decimal(10) ** MAX_INTEGER_DIGITS

# 60 digits hold the exact product of two DECIMAL(18, 8) values (at most 36).
_CONTEXT = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


def parse_decimal(raw: object, *, field: str) -> Decimal:
    """Return ``raw`` as a Decimal with exactly 8 decimal places.

    Accepts ``Decimal``, ``int``, ``float`` (finite, read via ``repr``) and
    numeric strings. Raises :class:`InvalidInput` naming ``field`` for anything
    else, for NaN and infinities, for more than 8 significant decimal places and
    for values with more than 10 integer digits. Trailing zeros beyond the 8th
    place are fine (``"1.500000000"`` is exactly ``1.5``).
    """
    value = _to_decimal(raw, field)
    if not value.is_finite():
        raise InvalidInput(
            f"{field} must be a finite number, got {raw!r}",
            code="NOT_FINITE",
            field=field,
            value=str(raw),
        )
    if abs(value) >= _UPPER_BOUND:
        raise InvalidInput(
            f"{field} must have at most {MAX_INTEGER_DIGITS} integer digits, got {value}",
            code="OUT_OF_RANGE",
            field=field,
            limit=str(_UPPER_BOUND - QUANTUM),
            value=str(value),
        )
    quantized = value.quantize(QUANTUM, context=_CONTEXT)
    if quantized != value:
        raise InvalidInput(
            f"{field} must have at most {SCALE} decimal places, got {value}",
            code="TOO_MANY_DECIMALS",
            field=field,
            limit=SCALE,
            value=str(value),
        )
    if quantized.is_zero():
        return abs(quantized)  # no "-0E-8" leaking into storage or output
    return quantized


def _to_decimal(raw: object, field: str) -> Decimal:
    kind = type(raw)
    if kind is str:  # the common case (CLI, JSON): one type test, not five
        try:
            return Decimal(raw.strip())  # type: ignore[attr-defined]
        except decimal.InvalidOperation:
            raise _not_a_number(raw, field) from None
    if kind is Decimal:
        return raw  # type: ignore[return-value]
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, bool):  # bool is an int subclass; True is not a quantity
        raise _not_a_number(raw, field)
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    if isinstance(raw, str):
        text = raw.strip()
        try:
            return Decimal(text)
        except decimal.InvalidOperation:
            raise _not_a_number(raw, field) from None
    raise _not_a_number(raw, field)


def _not_a_number(raw: object, field: str) -> InvalidInput:
    return InvalidInput(
        f"{field} must be a decimal number, got {raw!r}",
        code="NOT_A_NUMBER",
        field=field,
        value=str(raw),
    )


def multiply(left: Decimal, right: Decimal) -> Decimal:
    """Exact product of two column values (no rounding happens here)."""
    return _CONTEXT.multiply(left, right)


def round_amount(value: Decimal) -> Decimal:
    """Round to the column's 8 places, half to even (banker's rounding)."""
    return value.quantize(QUANTUM, context=_CONTEXT)


def format_decimal(value: Decimal) -> str:
    """Plain notation without trailing zeros: ``Decimal('150.25000000')`` -> ``'150.25'``."""
    text = format(value.normalize(_CONTEXT), "f")
    return "0" if text in ("-0", "0") else text
