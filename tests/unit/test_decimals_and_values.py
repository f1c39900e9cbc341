"""Exact decimals and the value objects built on them."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest

from order_core import InvalidInput, OrderSide, OrderStatus, OrderType, Price, Quantity, Symbol
from order_core.decimals import format_decimal, parse_decimal
from order_core.values import parse_uuid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10", "10.00000000"),
        (" 0.12345678 ", "0.12345678"),
        ("123456789.12345678", "123456789.12345678"),
        ("1.500000000000", "1.50000000"),  # trailing zeros beyond 8 places are exact
        (7, "7.00000000"),
        (0.1, "0.10000000"),  # a float is read through repr, never through binary
        (150.25, "150.25000000"),
        (Decimal("1E+3"), "1000.00000000"),
        ("9999999999.99999999", "9999999999.99999999"),
    ],
)
def test_parse_decimal_is_exact(raw: object, expected: str) -> None:
    assert str(parse_decimal(raw, field="quantity")) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("abc", "NOT_A_NUMBER"),
        ("", "NOT_A_NUMBER"),
        ("0x10", "NOT_A_NUMBER"),
        (None, "NOT_A_NUMBER"),
        (True, "NOT_A_NUMBER"),
        ([1], "NOT_A_NUMBER"),
        ("NaN", "NOT_FINITE"),
        (float("inf"), "NOT_FINITE"),
        ("-Infinity", "NOT_FINITE"),
        ("1.123456789", "TOO_MANY_DECIMALS"),
        ("0.000000001", "TOO_MANY_DECIMALS"),
        ("10000000000", "OUT_OF_RANGE"),
        ("-10000000000", "OUT_OF_RANGE"),
    ],
)
def test_parse_decimal_rejects_with_field_and_code(raw: object, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_decimal(raw, field="price")
    assert caught.value.code == code
    assert caught.value.field == "price"
    assert "price" in caught.value.message


def test_negative_zero_is_stored_as_zero() -> None:
    assert str(parse_decimal("-0", field="x")) == "0E-8"
    assert not parse_decimal("-0", field="x").is_signed()


def test_format_decimal_drops_trailing_zeros_without_exponent() -> None:
    assert format_decimal(Decimal("150.25000000")) == "150.25"
    assert format_decimal(Decimal("1000.00000000")) == "1000"
    assert format_decimal(Decimal("0E-8")) == "0"


@pytest.mark.parametrize("raw", ["0", "-1", "-0.00000001"])
def test_quantity_must_be_positive(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Quantity.parse(raw)
    assert (caught.value.code, caught.value.field) == ("NOT_POSITIVE", "quantity")


def test_quantity_and_price_always_carry_eight_places() -> None:
    assert Quantity(Decimal("5")).value.as_tuple().exponent == -8
    assert Quantity.parse("5") == Quantity(Decimal("5.0"))
    assert Price.parse("0.5", field="stop_price").value == Decimal("0.50000000")


def test_price_errors_name_the_callers_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        Price.parse("-3", field="stop_price")
    assert caught.value.field == "stop_price"


@pytest.mark.parametrize(
    ("raw", "expected"), [("aapl", "AAPL"), (" brk.b ", "BRK.B"), ("BTC/USD", "BTC/USD")]
)
def test_symbol_is_normalised(raw: str, expected: str) -> None:
    symbol = Symbol.parse(raw)
    assert symbol == expected
    assert symbol.value == expected
    assert isinstance(symbol, Symbol)


@pytest.mark.parametrize("raw", ["", "A" * 21, "AA PL", "$AAPL", "-AAPL", 42])
def test_symbol_rejects_malformed_text(raw: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        Symbol.parse(raw)
    assert (caught.value.code, caught.value.field) == ("INVALID_SYMBOL", "symbol")


def test_enums_parse_any_case_and_name_the_allowed_values() -> None:
    assert OrderSide.parse(" buy", field="order_side") is OrderSide.BUY
    assert OrderType.parse("stop_limit", field="order_type") is OrderType.STOP_LIMIT
    with pytest.raises(InvalidInput) as caught:
        OrderSide.parse("hold", field="order_side")
    assert caught.value.code == "UNKNOWN_ORDER_SIDE"
    assert caught.value.field == "order_side"
    assert caught.value.limit == "BUY, SELL"


def test_parse_uuid() -> None:
    text = "00000000-0000-4000-8000-00000000a11c"
    assert parse_uuid(text, field="user_id") == UUID(text)
    with pytest.raises(InvalidInput) as caught:
        parse_uuid("alice", field="user_id")
    assert (caught.value.code, caught.value.field) == ("INVALID_UUID", "user_id")


def test_terminal_statuses() -> None:
    assert {s for s in OrderStatus if s.is_terminal} == {
        OrderStatus.EXECUTED,
        OrderStatus.FAILED,
        OrderStatus.CANCELLED,
    }
