"""Exact decimals and the value objects built on them."""

from __future__ import annotations

import decimal
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from order_core import (
    InvalidInput,
    OrderSide,
    OrderStatus,
    OrderType,
    Price,
    Quantity,
    RiskPolicy,
    RiskRejected,
    SubmitOrder,
    Symbol,
    ValidationPolicy,
    ValidationRejected,
)
from order_core.decimals import (
    add,
    format_decimal,
    multiply,
    parse_decimal,
    remainder,
    round_amount,
    round_to,
    subtract,
)
from order_core.records import AssetDetails, Quote
from order_core.rules.pricing import order_value
from order_core.rules.risk import check_risk
from order_core.rules.validation import check_prices
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


# -- ASCII only ------------------------------------------------------------------------

ARABIC_TEN = "\u0661\u0660"  # Arabic-Indic digits: int() and Decimal() read 10


@pytest.mark.parametrize(
    "raw",
    [
        ARABIC_TEN,
        "\uff11\uff10",  # fullwidth digits
        "\u0967",  # Devanagari one
        "1_000",
        "1_000.5",
        "0.000_1",
        "\u00a01",  # a no-break space around the number
        "1\u2003",
        "1\x1f",  # str.strip() drops this ASCII control, Decimal() too
        "1e",
        ".",
        "+",
        "--1",
    ],
)
def test_parse_decimal_takes_only_ascii_digits_sign_point_and_exponent(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_decimal(raw, field="quantity")
    assert (caught.value.code, caught.value.field) == ("NOT_A_NUMBER", "quantity")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1", "1"),
        ("-0.5", "-0.5"),
        ("1.", "1"),
        (".25", "0.25"),
        ("1E+2", "100"),
        ("2e-3", "0.002"),
    ],
)
def test_parse_decimal_still_takes_every_ascii_notation(raw: str, expected: str) -> None:
    assert format_decimal(parse_decimal(f" {raw}\t", field="price")) == expected


@pytest.mark.parametrize("raw", [ARABIC_TEN, "1_000"])
def test_every_numeric_input_is_ascii_only(raw: str) -> None:
    for parse in (Quantity.parse, Price.parse):
        with pytest.raises(InvalidInput):
            parse(raw)
    with pytest.raises(InvalidInput) as caught:
        SubmitOrder(UUID(int=1), "AAPL", "LIMIT", "BUY", "1", price=raw).parse()
    assert (caught.value.code, caught.value.field) == ("NOT_A_NUMBER", "price")


@pytest.mark.parametrize(
    "raw",
    [
        "\ufb01",  # the ligature: "fi".upper() is "FI"
        "\u017f",  # the long s: upper() is "S"
        "a\u0131",  # the dotless i: upper() is "I"
        "\u212aO",  # the Kelvin sign
        "\uff21\uff21\uff30\uff2c",  # fullwidth AAPL
        "\u00a0AAPL",  # a no-break space
        "AAPL\u0661",
    ],
)
def test_symbol_must_be_ascii_before_it_is_upper_cased(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Symbol.parse(raw)
    assert (caught.value.code, caught.value.field, caught.value.value) == (
        "INVALID_SYMBOL",
        "symbol",
        raw,
    )


def test_enums_take_only_ascii_names() -> None:
    with pytest.raises(InvalidInput) as caught:
        OrderSide.parse("\u017fell", field="order_side")  # upper() gives "SELL"
    assert caught.value.code == "UNKNOWN_ORDER_SIDE"


@pytest.mark.parametrize(
    "raw",
    [
        "\u0661" + "0" * 31,  # int(..., 16) reads other scripts' digits
        "+" + "0" * 31,
        "0_" + "0" * 30,
        "0000000-00000-4000-8000-00000000a11c",  # dashes in the wrong places
        "{00000000-0000-4000-8000-00000000a11c",
    ],
)
def test_parse_uuid_takes_only_ascii_hex(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_uuid(raw, field="user_id")
    assert caught.value.code == "INVALID_UUID"


@pytest.mark.parametrize(
    "raw",
    [
        "00000000-0000-4000-8000-00000000A11C",
        "000000000000400080000000" + "0000a11c",
        "{00000000-0000-4000-8000-00000000a11c}",
        "urn:uuid:00000000-0000-4000-8000-00000000a11c",
        " 00000000-0000-4000-8000-00000000a11c\n",
    ],
)
def test_parse_uuid_takes_the_usual_spellings(raw: str) -> None:
    assert parse_uuid(raw, field="user_id") == UUID("00000000-0000-4000-8000-00000000a11c")


# -- the caller's decimal context changes nothing -------------------------------------

BIG = Decimal("99775.12345678")


@pytest.fixture
def narrow_context() -> object:
    """A caller's context of 4 digits that traps nothing it did not before."""
    with decimal.localcontext(decimal.Context(prec=4, rounding=decimal.ROUND_DOWN)) as context:
        yield context


@pytest.mark.usefixtures("narrow_context")
def test_decimals_arithmetic_ignores_the_callers_context() -> None:
    assert add(BIG, Decimal("0.00000001")) == Decimal("99775.12345679")
    assert subtract(BIG, Decimal("0.00000008")) == Decimal("99775.12345670")
    assert subtract(Decimal(0), BIG) == BIG.copy_negate()
    assert multiply(BIG, Decimal(3)) == Decimal("299325.37037034")
    assert remainder(BIG, Decimal("0.01")) == Decimal("0.00345678")
    assert round_amount(Decimal("1.123456785")) == Decimal("1.12345678")
    assert round_to(BIG, Decimal("0.01")) == Decimal("99775.12")
    assert format_decimal(BIG) == "99775.12345678"
    assert parse_decimal("99775.12345678", field="price") == BIG
    assert parse_decimal("9999999999.99999999", field="price") == Decimal("9999999999.99999999")


@pytest.mark.usefixtures("narrow_context")
def test_values_and_errors_print_exactly_whatever_the_callers_context() -> None:
    assert str(Quantity.parse(BIG)) == "99775.12345678"
    assert str(Price.parse("0.12345678")) == "0.12345678"
    with pytest.raises(InvalidInput) as caught:
        Price.parse("-99775.12345678")
    assert caught.value.message == "price must be greater than 0, got -99775.12345678"


@pytest.mark.usefixtures("narrow_context")
def test_rules_compute_exactly_whatever_the_callers_context() -> None:
    assert order_value(BIG, Decimal("3")) == Decimal("299325.37037034")
    asset = AssetDetails(Symbol("AAPL"), "Apple", "equity", tick_size=Decimal("0.00000001"))
    quote = Quote(Symbol("AAPL"), BIG, datetime(2025, 11, 4, tzinfo=UTC))
    on_the_band = SubmitOrder(UUID(int=7), "AAPL", "LIMIT", "BUY", "1", price="109752.63580246")
    check_prices(on_the_band.parse(), asset, quote, ValidationPolicy())  # 10% up, exactly
    past_the_band = SubmitOrder(UUID(int=7), "AAPL", "LIMIT", "BUY", "1", price="109752.63580247")
    with pytest.raises(ValidationRejected) as outside:
        check_prices(past_the_band.parse(), asset, quote, ValidationPolicy())
    assert outside.value.to_dict()["limit"] == "109752.63580246"
    assert "more than 10% away" in outside.value.message
    order = SubmitOrder(UUID(int=7), "AAPL", "MARKET", "BUY", "0.00000001").parse()
    policy = RiskPolicy(max_position_quantity=Decimal("99775.12345679"))
    check_risk(
        order,
        policy,
        order_value=Decimal(1),
        orders_today=0,
        available_balance=Decimal(10),
        position_after_open_buys=BIG,
    )
    with pytest.raises(RiskRejected) as over:
        check_risk(
            order,
            policy,
            order_value=Decimal(1),
            orders_today=0,
            available_balance=Decimal(10),
            position_after_open_buys=add(BIG, Decimal("0.00000001")),
        )
    assert over.value.to_dict()["value"] == "99775.1234568"


def test_text_is_refused_the_same_when_the_caller_traps_nothing() -> None:
    with decimal.localcontext(decimal.Context(prec=4, traps=[])):
        for raw, code in [("abc", "NOT_A_NUMBER"), ("1e9999999999999999999", "NOT_A_NUMBER")]:
            with pytest.raises(InvalidInput) as caught:
                parse_decimal(raw, field="price")
            assert caught.value.code == code
        digits = "1" * 10 + "." + "0" * 60 + "1"  # exactly 1111111111.000...01: too many places
        with pytest.raises(InvalidInput) as caught:
            parse_decimal(digits, field="price")
        assert caught.value.code == "TOO_MANY_DECIMALS"
