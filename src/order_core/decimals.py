"""Exact decimal arithmetic for money and quantities.

Every amount the service stores fits the tables' ``DECIMAL(18, 8)``: at most
8 decimal places and 10 integer digits. Input is converted without ever passing
through binary floating point (a ``float`` is read through ``repr``, which gives
the shortest string that round-trips); text is ASCII only (digits, a sign, a
point, an exponent: no other script's digits, no ``_`` separators). Arithmetic
runs in the module's own context, wide enough that sums and products of column
values are exact before they are rounded, whatever the caller's
``decimal.getcontext()`` says: use :func:`add`, :func:`subtract`,
:func:`multiply`, :func:`remainder` and :func:`round_to` instead of the
operators (``+``, ``-``, unary ``-``, ``abs()`` and ``normalize()`` all round
to the caller's precision).
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from order_core.errors import InvalidInput
from order_core.exact import EXACT, format_decimal

__all__ = [
    "MAX_INTEGER_DIGITS",
    "QUANTUM",
    "SCALE",
    "add",
    "format_decimal",
    "multiply",
    "parse_decimal",
    "remainder",
    "round_amount",
    "round_to",
    "shift_point",
    "subtract",
]

SCALE = 8
MAX_INTEGER_DIGITS = 10
QUANTUM = Decimal(1).scaleb(-SCALE)
_UPPER_BOUND = Decimal(10) ** MAX_INTEGER_DIGITS

_CONTEXT = EXACT  # 60 digits: any sum or product of column values, exactly

#: Reads text exactly (no precision to round to) and refuses what is not a
#: number whatever the caller's context traps (``Decimal()`` would return NaN).
_READING = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.Overflow, decimal.Inexact, decimal.Rounded],
)
_ASCII_BLANKS = " \t\n\r\f\v"


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
    if value.copy_abs() >= _UPPER_BOUND:  # copy_abs: exact, abs() rounds
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
        return quantized.copy_abs()  # no "-0E-8" leaking into storage or output
    return quantized


def _to_decimal(raw: object, field: str) -> Decimal:
    kind = type(raw)
    if kind is str:  # the common case (CLI, JSON): one type test, not five
        return _from_text(raw, field)  # type: ignore[arg-type]
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
        return _from_text(raw, field)
    raise _not_a_number(raw, field)


def _from_text(raw: str, field: str) -> Decimal:
    # ASCII digits, a sign, a point, an exponent (or NaN and the infinities,
    # refused as NOT_FINITE): Decimal's grammar, less what it also takes, any
    # script's digits (Arabic-Indic "\u0661\u0660" is 10), "_" between digits,
    # and blanks beyond ASCII's at either end (str.strip() drops "\x1f").
    text = raw.strip(_ASCII_BLANKS)
    if text.isascii() and "_" not in text and text == text.strip():
        try:
            return _READING.create_decimal(text)
        except decimal.DecimalException:  # not a number, or an exponent past any
            pass
    raise _not_a_number(raw, field)


def _not_a_number(raw: object, field: str) -> InvalidInput:
    return InvalidInput(
        f"{field} must be a decimal number, got {raw!r}",
        code="NOT_A_NUMBER",
        field=field,
        value=str(raw),
    )


def add(left: Decimal, right: Decimal) -> Decimal:
    """Exact sum of two amounts, whatever the caller's decimal context (60 digits
    hold any sum of column values)."""
    return _CONTEXT.add(left, right)


def subtract(left: Decimal, right: Decimal) -> Decimal:
    """Exact difference of two amounts (not ``add(left, -right)``: unary minus
    rounds to the caller's context)."""
    return _CONTEXT.subtract(left, right)


def multiply(left: Decimal, right: Decimal) -> Decimal:
    """Exact product of two column values (no rounding happens here)."""
    return _CONTEXT.multiply(left, right)


def remainder(value: Decimal, step: Decimal) -> Decimal:
    """``value % step``, exactly (the operator fails under a narrow context when
    the quotient has more digits than its precision)."""
    return _CONTEXT.remainder(value, step)


def round_amount(value: Decimal) -> Decimal:
    """Round to the column's 8 places, half to even (banker's rounding)."""
    return value.quantize(QUANTUM, context=_CONTEXT)


def round_to(value: Decimal, quantum: Decimal) -> Decimal:
    """Round to ``quantum``'s places (``Decimal("0.01")``: cents), half to even."""
    return value.quantize(quantum, context=_CONTEXT)


def shift_point(value: Decimal, places: int) -> Decimal:
    """``value`` times 10 to the ``places``, exactly (``Decimal.scaleb`` rounds to
    the caller's context: at 8 digits, 99775.12345678 becomes 99775.123)."""
    return value.scaleb(places, context=_CONTEXT)
