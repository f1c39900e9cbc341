"""Submit an order.

check input -> a key already decided answers at once -> account, market data
and validation -> one transaction, holding the user's lock: the key checked
again, the risk rules against what is committed, then the order, its
``OrderSubmitted`` outbox message, the cash a BUY holds and the key's record
-> answer PENDING. The key's protocol is in
:mod:`order_core.usecases.deduplication`.

Nothing is published here: the outbox relay does that after the commit, so a
crash never leaves an order without its message, a message without its order,
or a hold without either.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from order_core.commands import OrderRequest, SubmitOrder
from order_core.decimals import add, subtract
from order_core.dependencies import Dependencies
from order_core.errors import (
    IdempotencyInProgress,
    IdempotencyRecordExists,
    OrderRejected,
    RejectionCode,
    ValidationRejected,
)
from order_core.order import Order
from order_core.ports import UnitOfWork
from order_core.records import IdempotencyRecord, Quote
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
from order_core.usecases.common import stage_events
from order_core.usecases.deduplication import (
    Claim,
    answer,
    claim_early,
    decided_under_lock,
    new_claim,
    settle_gate,
)
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
    if claim is not None:
        replay = claim_early(deps, claim)
        if replay is not None:
            return replay
    try:
        quote = _validate(deps, request)
    except OrderRejected as rejection:
        if claim is not None:
            return _refuse(deps, request, claim, rejection)
        raise
    except BaseException:
        if claim is not None:
            settle_gate(deps, claim, None)
        raise
    return _place(deps, request, order_id, now, quote, claim)


def _place(  # noqa: PLR0917  # the submission's parts, passed along once
    deps: Dependencies,
    request: OrderRequest,
    order_id: UUID,
    now: datetime,
    quote: Quote,
    claim: Claim | None,
) -> SubmitReceipt:
    """Under the user's lock: check the key and the risk rules against what is
    committed, then store the order with its hold and the key's record."""
    decided: IdempotencyRecord | None = None
    try:
        with deps.unit_of_work() as uow:
            uow.orders.lock_user(request.user_id)
            since = _start_of_utc_day(now)
            uow.orders.expect_activity(request.user_id, request.symbol, since=since)
            if claim is not None:
                decided = decided_under_lock(uow, claim)
                if decided is not None:
                    return answer(deps, uow, decided, claim)
            try:
                price, value = _check_risk(deps, uow, request, quote.price, since=since)
            except OrderRejected as rejection:
                if claim is not None and claim.from_client:
                    decided = claim.failed(rejection)
                    uow.idempotency.put(decided)
                    uow.commit()
                raise
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
            uow.orders.add(order)
            stage_events(uow, order, deps.ids)
            if request.side is OrderSide.BUY:
                uow.ledger.hold(request.user_id, order.id, value)
            if claim is not None:
                decided = claim.completed(receipt)
                uow.idempotency.put(decided)
            uow.commit()
        return receipt
    except IdempotencyRecordExists:
        # A record written outside the user's lock (a gate on the same table):
        # the database has decided this key; its record answers.
        assert claim is not None
        with deps.unit_of_work() as uow:
            decided = uow.idempotency.get(claim.key, now)
            if decided is None:
                raise IdempotencyInProgress(retry_after_seconds=1) from None
            return answer(deps, uow, decided, claim)
    finally:
        if claim is not None:
            settle_gate(deps, claim, decided)


def _refuse(
    deps: Dependencies, request: OrderRequest, claim: Claim, rejection: OrderRejected
) -> SubmitReceipt:
    """A validation rule refused the order before its transaction: keep the
    refusal under a client key (a derived key stays free, so the user may fix
    the cause and send the same order again), unless the key was decided
    meanwhile, in which case that decision answers."""
    decided: IdempotencyRecord | None = None
    try:
        with deps.unit_of_work() as uow:
            uow.orders.lock_user(request.user_id)
            decided = decided_under_lock(uow, claim)
            if decided is not None:
                return answer(deps, uow, decided, claim)
            if claim.from_client:
                decided = claim.failed(rejection)
                uow.idempotency.put(decided)
                uow.commit()
        raise rejection
    finally:
        settle_gate(deps, claim, decided)


def _validate(deps: Dependencies, request: OrderRequest) -> Quote:
    """The validation rules that need market data; the quote they were checked against."""
    policy = deps.policy.validation
    market = deps.market_data
    user_id, symbol = request.user_id, request.symbol

    check_account(*deps.accounts.trading_status(user_id, symbol), request)
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
    return quote


def _check_risk(
    deps: Dependencies,
    uow: UnitOfWork,
    request: OrderRequest,
    market_price: Decimal,
    *,
    since: datetime,
) -> tuple[Decimal, Decimal]:
    """The position and risk rules, read under the user's lock; the order's
    estimated price and value. ``since``: where the day's order count starts."""
    user_id, symbol, quantity = request.user_id, request.symbol, request.quantity.value
    activity = uow.orders.activity(user_id, symbol, since=since)
    held = uow.ledger.position(user_id, symbol)
    # What is not yet sold: open SELLs and executed ones not applied yet.
    check_sell_position(request, subtract(held, activity.selling))
    price = estimated_price(
        request.order_type,
        limit=request.price.value if request.price else None,
        stop=request.stop_price.value if request.stop_price else None,
        market=market_price,
    )
    value = order_value(quantity, price)
    if request.side is OrderSide.BUY:
        available = uow.ledger.cash(user_id).available
        position = add(held, activity.buying)
    else:
        available = position = quantity  # not consulted for SELL
    check_risk(
        request,
        deps.policy.risk,
        order_value=value,
        orders_today=activity.orders_since,
        available_balance=available,
        position_after_open_buys=position,
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
