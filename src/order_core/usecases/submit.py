"""Submit an order.

check input -> claim the idempotency key -> account, market data, validation
-> risk -> hold cash for a BUY (the quantity for a SELL) -> one transaction
writes the order, its ``OrderSubmitted`` outbox message and the idempotency
record -> answer PENDING. The key's protocol is in
:mod:`order_core.usecases.deduplication`.

Nothing is published here: the outbox relay does that after the commit, so a
crash never leaves an order without its message or a message without its order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from order_core.commands import OrderRequest, SubmitOrder
from order_core.dependencies import Dependencies
from order_core.errors import RejectionCode, ValidationRejected
from order_core.order import Order
from order_core.ports import UnitOfWork
from order_core.records import Position, Quote
from order_core.results import SubmitReceipt
from order_core.rules.pricing import estimated_price, order_value
from order_core.rules.risk import check_risk
from order_core.rules.validation import (
    check_account,
    check_asset,
    check_market_open,
    check_prices,
    check_quantity,
    check_sell_position,
)
from order_core.usecases.common import quietly, stage_events
from order_core.usecases.deduplication import Claim, deduplicated, new_claim
from order_core.values import OrderSide

__all__ = ["submit_order"]


def submit_order(deps: Dependencies, command: SubmitOrder) -> SubmitReceipt:
    """Validate, de-duplicate and store an order; it is PENDING when this returns.

    Raises :class:`~order_core.errors.InvalidInput` for malformed input,
    :class:`~order_core.errors.OrderRejected` (validation or risk) for a rule
    violation, :class:`~order_core.errors.IdempotencyKeyReused` /
    :class:`~order_core.errors.IdempotencyInProgress` for key conflicts and
    :class:`~order_core.errors.DependencyUnavailable` when something it needs
    is down (then nothing was stored and a retry may succeed).
    """
    request = command.parse()
    now = deps.clock.now()
    order_id = deps.ids.new_id()
    claim = new_claim(deps, command, request, order_id, now)
    if claim is None:
        return _place(deps, request, order_id, now, None)
    return deduplicated(deps, claim, functools.partial(_place, deps, request, order_id))


def _place(
    deps: Dependencies,
    request: OrderRequest,
    order_id: UUID,
    now: datetime,
    claim: Claim | None,
) -> SubmitReceipt:
    """Accept the order and store it, with ``claim``'s final record if any."""
    with deps.unit_of_work() as uow:
        order, receipt = _accept(deps, uow, request, order_id, now)
        release = _hold(deps, request, order_id, receipt.estimated_value)
        try:
            uow.orders.add(order)
            stage_events(uow, order, deps.ids)
            if claim is not None:
                uow.idempotency.put(claim.completed(receipt))
            uow.commit()
        except BaseException:
            quietly(release, request.user_id, order.id)
            raise
    return receipt


def _hold(
    deps: Dependencies, request: OrderRequest, order_id: UUID, value: Decimal
) -> Callable[[UUID, UUID], None]:
    """Hold what the order may spend: cash for a BUY, the quantity for a SELL.
    Returns how to let go of it again. The holds re-check availability
    atomically, so two orders racing for the last of it cannot both win."""
    if request.side is OrderSide.BUY:
        deps.balances.reserve(request.user_id, value, order_id)
        return deps.balances.release
    deps.positions.reserve(request.user_id, request.symbol, request.quantity.value, order_id)
    return deps.positions.release


def _accept(
    deps: Dependencies, uow: UnitOfWork, request: OrderRequest, order_id: UUID, now: datetime
) -> tuple[Order, SubmitReceipt]:
    """Run validation and risk against fresh data; the order they accept."""
    quote, position = _validate(deps, request)
    price, value = _check_risk(deps, uow, request, quote.price, position, now=now)
    order = Order.place(
        id=order_id,
        user_id=request.user_id,
        symbol=request.symbol,
        side=request.side,
        order_type=request.order_type,
        quantity=request.quantity,
        price=request.price,
        stop_price=request.stop_price,
        market_price=quote.price,
        market_data_timestamp=quote.timestamp,
        now=now,
    )
    receipt = SubmitReceipt(
        order_id=order.id,
        status=order.status,
        estimated_price=price,
        estimated_value=value,
        market_price=quote.price,
        submitted_at=now,
    )
    return order, receipt


def _validate(deps: Dependencies, request: OrderRequest) -> tuple[Quote, Position]:
    """The validation rules; the quote and the position they were checked against."""
    policy = deps.policy.validation
    market = deps.market_data
    user_id, symbol = request.user_id, request.symbol

    check_account(
        deps.accounts.get_account(user_id), deps.accounts.can_trade(user_id, symbol), request
    )
    asset = check_asset(market.get_asset(symbol), request)
    check_market_open(market.is_market_open(symbol), request, policy)
    quote = market.get_quote(symbol)
    if quote is None:
        raise ValidationRejected(
            f"no market price is available for {symbol}",
            code=RejectionCode.SYMBOL_INACTIVE,
            field="symbol",
            value=symbol.value,
        )
    check_prices(request, asset, quote, policy)
    check_quantity(request, policy)
    position = deps.positions.get_position(user_id, symbol)
    check_sell_position(request, position.available)
    return quote, position


def _check_risk(
    deps: Dependencies,
    uow: UnitOfWork,
    request: OrderRequest,
    market_price: Decimal,
    position: Position,
    *,
    now: datetime,
) -> tuple[Decimal, Decimal]:
    """The risk rules; the order's estimated price and value."""
    user_id, quantity = request.user_id, request.quantity.value
    activity = uow.orders.activity(
        user_id, request.symbol, request.side, since=_start_of_utc_day(now)
    )
    price = estimated_price(
        request.order_type,
        limit=request.price.value if request.price else None,
        stop=request.stop_price.value if request.stop_price else None,
        market=market_price,
    )
    value = order_value(quantity, price)
    if request.side is OrderSide.BUY:
        available = deps.balances.get_balance(user_id).available
        held = position.quantity + activity.open_quantity
    else:
        available = held = quantity  # not consulted for SELL
    check_risk(
        request,
        deps.policy.risk,
        order_value=value,
        orders_today=activity.orders_since,
        available_balance=available,
        position_after_open_buys=held,
    )
    return price, value


_today: tuple[datetime, datetime] = (datetime.max.replace(tzinfo=UTC),) * 2


def _start_of_utc_day(moment: datetime) -> datetime:
    """Midnight UTC of ``moment``'s day: the daily order count starts there.
    The current day's bounds are kept, so most calls are two comparisons."""
    global _today  # noqa: PLW0603  # a cache of one immutable pair; a race only recomputes it
    start, end = _today
    if start <= moment < end:
        return start
    day = moment.astimezone(UTC).date()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    _today = (start, start + timedelta(days=1))
    return start
