"""The decimal context every amount is computed in, and plain text of an
amount: the two pieces :mod:`order_core.decimals` and :mod:`order_core.errors`
share (here so that neither imports the other)."""

from __future__ import annotations

import decimal
from decimal import Decimal

__all__ = ["EXACT", "format_decimal"]

# 60 digits hold the exact product of two DECIMAL(18, 8) values (at most 36),
# whatever context the caller set.
EXACT = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


def format_decimal(value: Decimal) -> str:
    """Plain notation without trailing zeros: ``Decimal('150.25000000')`` -> ``'150.25'``."""
    text = format(value.normalize(EXACT), "f")
    return "0" if text in ("-0", "0") else text
