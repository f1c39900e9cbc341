"""Order validation: account, symbol, market hours, prices,
quantity and, for SELL, the position. Each check is a pure function that raises
:class:`~order_core.errors.ValidationRejected` with a stable code, the field,
the limit and the offending value."""

from __future__ import annotations

from decimal import Decimal

from order_core.commands import OrderRequest
from order_core.decimals import (
    add,
    format_decimal,
    multiply,
    remainder,
    round_amount,
    subtract,
)
from order_core.errors import InsufficientPosition, RejectionCode, ValidationRejected
from order_core.policy import ValidationPolicy
from order_core.records import AccountStatus, AssetDetails, Quote
from order_core.values import OrderSide, Price

__all__ = [
    "check_account",
    "check_asset",
    "check_market_open",
    "check_prices",
    "check_quantity",
    "check_sell_position",
]


def check_account(account: AccountStatus | None, can_trade: bool, request: OrderRequest) -> None:
    """The user has an active account that may trade the symbol."""
    if account is None:
        raise ValidationRejected(
            f"user {request.user_id} has no trading account",
            code=RejectionCode.ACCOUNT_NOT_FOUND,
            field="user_id",
            value=str(request.user_id),
        )
    if not account.active:
        raise ValidationRejected(
            f"account of user {request.user_id} is not active",
            code=RejectionCode.ACCOUNT_INACTIVE,
            field="user_id",
            value=str(request.user_id),
        )
    if not can_trade:
        raise ValidationRejected(
            f"user {request.user_id} is not permitted to trade {request.symbol}",
            code=RejectionCode.TRADING_NOT_PERMITTED,
            field="symbol",
            value=request.symbol.value,
        )


def check_asset(asset: AssetDetails | None, request: OrderRequest) -> AssetDetails:
    """The symbol exists, is tradeable and is active."""
    symbol = request.symbol.value
    if asset is None:
        raise ValidationRejected(
            f"symbol {symbol} does not exist",
            code=RejectionCode.SYMBOL_NOT_FOUND,
            field="symbol",
            value=symbol,
        )
    if not asset.tradeable:
        raise ValidationRejected(
            f"symbol {symbol} is not tradeable",
            code=RejectionCode.SYMBOL_NOT_TRADEABLE,
            field="symbol",
            value=symbol,
        )
    if not asset.active:
        raise ValidationRejected(
            f"symbol {symbol} is not active",
            code=RejectionCode.SYMBOL_INACTIVE,
            field="symbol",
            value=symbol,
        )
    return asset


def check_market_open(is_open: bool, request: OrderRequest, policy: ValidationPolicy) -> None:
    """The symbol's market is open (unless the policy allows orders while closed)."""
    if policy.require_open_market and not is_open:
        raise ValidationRejected(
            f"the market for {request.symbol} is closed",
            code=RejectionCode.MARKET_CLOSED,
            field="symbol",
            value=request.symbol.value,
        )


def check_prices(
    request: OrderRequest, asset: AssetDetails, quote: Quote, policy: ValidationPolicy
) -> None:
    """Every price the order carries (limit and stop) is on the tick and within
    the tolerance band around the market price."""
    if request.price is None and request.stop_price is None:
        return
    tick = asset.tick_size or policy.default_tick_size
    for field, price in (("price", request.price), ("stop_price", request.stop_price)):
        if price is not None:
            _check_tick(field, price, tick)
            _check_tolerance(field, price, quote.price, policy.price_tolerance)


def _check_tick(field: str, price: Price, tick: Decimal) -> None:
    if remainder(price.value, tick) != 0:
        raise ValidationRejected(
            f"{field} {price} is not a multiple of the tick size {format_decimal(tick)}",
            code=RejectionCode.PRICE_NOT_ON_TICK,
            field=field,
            limit=tick,
            value=price.value,
        )


def _check_tolerance(field: str, price: Price, market: Decimal, tolerance: Decimal) -> None:
    band = round_amount(multiply(market, tolerance))
    low, high = subtract(market, band), add(market, band)
    if low <= price.value <= high:
        return
    bound = high if price.value > high else low
    percent = format_decimal(multiply(tolerance, Decimal(100)))
    raise ValidationRejected(
        f"{field} {price} is more than {percent}% away from the "
        f"market price {format_decimal(market)} (allowed {format_decimal(low)} to "
        f"{format_decimal(high)})",
        code=RejectionCode.PRICE_OUTSIDE_TOLERANCE,
        field=field,
        limit=bound,
        value=price.value,
    )


def check_quantity(request: OrderRequest, policy: ValidationPolicy) -> None:
    """The quantity is within the order size limits."""
    quantity = request.quantity.value
    if quantity < policy.min_quantity:
        raise ValidationRejected(
            f"quantity {request.quantity} is below the minimum order size "
            f"{format_decimal(policy.min_quantity)}",
            code=RejectionCode.QUANTITY_BELOW_MINIMUM,
            field="quantity",
            limit=policy.min_quantity,
            value=quantity,
        )
    if quantity > policy.max_quantity:
        raise ValidationRejected(
            f"quantity {request.quantity} is above the maximum order size "
            f"{format_decimal(policy.max_quantity)}",
            code=RejectionCode.QUANTITY_ABOVE_MAXIMUM,
            field="quantity",
            limit=policy.max_quantity,
            value=quantity,
        )


def check_sell_position(request: OrderRequest, available: Decimal) -> None:
    """A SELL must be covered by what the user holds and has not already
    committed to other SELL orders (``available``: held minus holds)."""
    if request.side is not OrderSide.SELL:
        return
    sellable = max(available, Decimal(0))
    if request.quantity.value > sellable:
        raise InsufficientPosition(available=sellable, required=request.quantity.value)
