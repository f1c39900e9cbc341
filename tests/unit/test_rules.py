"""Every validation and risk rule: its code, field, limit and offending value."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from order_core import (
    InsufficientBalance,
    InsufficientPosition,
    OrderRejected,
    RiskPolicy,
    RiskRejected,
    SubmitOrder,
    Symbol,
    ValidationPolicy,
    ValidationRejected,
)
from order_core.commands import OrderRequest
from order_core.records import AccountStatus, AssetDetails, Quote
from order_core.rules.risk import check_risk
from order_core.rules.validation import (
    check_account,
    check_asset,
    check_market_open,
    check_prices,
    check_quantity,
    check_sell_position,
)

USER = UUID(int=7)
NOW = datetime(2025, 11, 4, tzinfo=UTC)
D = Decimal
ASSET = AssetDetails(Symbol("AAPL"), "Apple", "equity")
QUOTE = Quote(Symbol("AAPL"), D("100.00"), NOW)


def request(**fields: object) -> OrderRequest:
    values: dict[str, object] = {
        "user_id": USER,
        "symbol": "AAPL",
        "order_type": "LIMIT",
        "order_side": "BUY",
        "quantity": "10",
        "price": "100",
    }
    values.update(fields)
    return SubmitOrder(**values).parse()  # type: ignore[arg-type]


def rejection(error: pytest.ExceptionInfo[OrderRejected]) -> tuple[object, ...]:
    data = error.value.to_dict()
    return data["code"], data["field"], data["limit"], data["value"]


# -- validation --------------------------------------------------------------------


def test_account_rules() -> None:
    order = request()
    with pytest.raises(ValidationRejected) as missing:
        check_account(None, True, order)
    assert rejection(missing) == ("ACCOUNT_NOT_FOUND", "user_id", None, str(USER))
    with pytest.raises(ValidationRejected) as inactive:
        check_account(AccountStatus(USER, active=False), True, order)
    assert rejection(inactive)[:2] == ("ACCOUNT_INACTIVE", "user_id")
    with pytest.raises(ValidationRejected) as barred:
        check_account(AccountStatus(USER, active=True), False, order)
    assert rejection(barred) == ("TRADING_NOT_PERMITTED", "symbol", None, "AAPL")
    check_account(AccountStatus(USER, active=True), True, order)


@pytest.mark.parametrize(
    ("asset", "code"),
    [
        (None, "SYMBOL_NOT_FOUND"),
        (AssetDetails(Symbol("AAPL"), "Apple", "equity", tradeable=False), "SYMBOL_NOT_TRADEABLE"),
        (AssetDetails(Symbol("AAPL"), "Apple", "equity", active=False), "SYMBOL_INACTIVE"),
    ],
)
def test_symbol_rules(asset: AssetDetails | None, code: str) -> None:
    with pytest.raises(ValidationRejected) as caught:
        check_asset(asset, request())
    assert rejection(caught) == (code, "symbol", None, "AAPL")


def test_market_must_be_open_unless_the_policy_allows_it() -> None:
    with pytest.raises(ValidationRejected) as caught:
        check_market_open(False, request(), ValidationPolicy())
    assert rejection(caught) == ("MARKET_CLOSED", "symbol", None, "AAPL")
    check_market_open(False, request(), ValidationPolicy(require_open_market=False))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"price": "110.01"}, ("PRICE_OUTSIDE_TOLERANCE", "price", "110", "110.01")),
        ({"price": "89.99"}, ("PRICE_OUTSIDE_TOLERANCE", "price", "90", "89.99")),
        (
            {"order_type": "STOP_LOSS", "price": None, "stop_price": "120", "order_side": "SELL"},
            ("PRICE_OUTSIDE_TOLERANCE", "stop_price", "110", "120"),
        ),
        ({"price": "100.005"}, ("PRICE_NOT_ON_TICK", "price", "0.01", "100.005")),
    ],
)
def test_price_rules(fields: dict[str, object], expected: tuple[object, ...]) -> None:
    with pytest.raises(ValidationRejected) as caught:
        check_prices(request(**fields), ASSET, QUOTE, ValidationPolicy())
    assert rejection(caught) == expected


def test_prices_inside_the_band_and_on_the_tick_pass() -> None:
    for price in ("90", "100.01", "110"):
        check_prices(request(price=price), ASSET, QUOTE, ValidationPolicy())
    check_prices(request(order_type="MARKET", price=None), ASSET, QUOTE, ValidationPolicy())


def test_the_assets_tick_size_wins_over_the_default() -> None:
    coarse = AssetDetails(Symbol("AAPL"), "Apple", "equity", tick_size=D("0.05"))
    with pytest.raises(ValidationRejected) as caught:
        check_prices(request(price="100.01"), coarse, QUOTE, ValidationPolicy())
    assert rejection(caught)[2] == "0.05"
    check_prices(request(price="100.05"), coarse, QUOTE, ValidationPolicy())


def test_tolerance_is_a_policy() -> None:
    check_prices(request(price="119"), ASSET, QUOTE, ValidationPolicy(price_tolerance=D("0.20")))


def test_quantity_size_rules() -> None:
    policy = ValidationPolicy(min_quantity=D("1"), max_quantity=D("500"))
    with pytest.raises(ValidationRejected) as small:
        check_quantity(request(quantity="0.5"), policy)
    assert rejection(small) == ("QUANTITY_BELOW_MINIMUM", "quantity", "1", "0.5")
    with pytest.raises(ValidationRejected) as large:
        check_quantity(request(quantity="500.00000001"), policy)
    assert rejection(large) == ("QUANTITY_ABOVE_MAXIMUM", "quantity", "500", "500.00000001")
    check_quantity(request(quantity="500"), policy)


def test_sell_needs_an_unreserved_position() -> None:
    sell = request(order_side="SELL", quantity="6")
    with pytest.raises(InsufficientPosition) as caught:
        check_sell_position(sell, available=D("5"))
    assert rejection(caught) == ("INSUFFICIENT_POSITION", "quantity", "5", "6")
    check_sell_position(sell, available=D("6"))
    check_sell_position(request(quantity="6"), available=D("0"))  # a BUY needs no position


# -- risk ----------------------------------------------------------------------------


def risk(order: OrderRequest, policy: RiskPolicy | None = None, **overrides: object) -> None:
    snapshot: dict[str, object] = {
        "order_value": order.quantity.value * D(100),
        "orders_today": 0,
        "available_balance": D("1000000"),
        "position_after_open_buys": D(0),
    }
    snapshot.update(overrides)
    check_risk(order, policy or RiskPolicy(), **snapshot)  # type: ignore[arg-type]


def test_max_order_value_defaults_to_the_seeds_million() -> None:
    with pytest.raises(RiskRejected) as caught:
        risk(request(), order_value=D("1000000.01"))
    assert rejection(caught) == ("MAX_ORDER_VALUE_EXCEEDED", "quantity", "1000000", "1000000.01")
    risk(request(), order_value=D("1000000"))


def test_max_quantity_per_order() -> None:
    with pytest.raises(RiskRejected) as caught:
        risk(request(quantity="11"), RiskPolicy(max_order_quantity=D("10")), order_value=D(0))
    assert rejection(caught) == ("MAX_ORDER_QUANTITY_EXCEEDED", "quantity", "10", "11")


def test_daily_order_count() -> None:
    with pytest.raises(RiskRejected) as caught:
        risk(request(), RiskPolicy(max_daily_orders=3), orders_today=3)
    assert rejection(caught) == ("DAILY_ORDER_LIMIT_REACHED", "user_id", 3, 4)
    risk(request(), RiskPolicy(max_daily_orders=3), orders_today=2)


def test_buy_needs_balance_but_sell_does_not() -> None:
    with pytest.raises(InsufficientBalance) as caught:
        risk(request(), available_balance=D("999.99"))
    assert rejection(caught) == ("INSUFFICIENT_BALANCE", "quantity", "999.99", "1000")
    assert isinstance(caught.value, RiskRejected)
    risk(request(order_side="SELL"), available_balance=D(0))


def test_max_position_per_symbol_counts_holdings_and_open_buys() -> None:
    policy = RiskPolicy(max_position_quantity=D("100"))
    with pytest.raises(RiskRejected) as caught:
        risk(request(quantity="10"), policy, position_after_open_buys=D("90.5"))
    assert rejection(caught) == ("MAX_POSITION_EXCEEDED", "quantity", "100", "100.5")
    risk(request(quantity="10"), policy, position_after_open_buys=D("90"))


def test_every_rejection_is_data_as_well_as_text() -> None:
    with pytest.raises(RiskRejected) as caught:
        risk(request(), available_balance=D("1"))
    data = caught.value.to_dict()
    assert set(data) == {"code", "message", "field", "limit", "value"}
    assert data["message"] == caught.value.message and "1000" in data["message"]
