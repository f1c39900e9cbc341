"""Submit an order (DESIGN §5 "Submit"; 002 §3.1).

check input -> claim the idempotency key -> account, market data, validation
-> risk -> reserve cash for a BUY -> one transaction writes the order, its
``OrderSubmitted`` outbox message and the idempotency record -> answer PENDING.

Nothing is published here: the outbox relay does that after the commit, so a
crash never leaves an order without its message or a message without its order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple, ParamSpec
from uuid import UUID

from order_core.commands import OrderRequest, SubmitOrder
from order_core.errors import (
    DependencyUnavailable,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    IdempotencyRecordExists,
    OrderRejected,
    RejectionCode,
    ValidationRejected,
)
from order_core.order import Order
from order_core.ports import IdempotencyStore, UnitOfWork
from order_core.results import SubmitReceipt
from order_core.rules.idempotency import (
    IdempotencyRecord,
    IdempotencyState,
    StoredRejection,
    Verdict,
    client_key,
    derive_key,
    judge,
    request_fingerprint,
)
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
from order_core.usecases.common import Dependencies, stage_events
from order_core.values import OrderSide

__all__ = ["submit_order"]

_P = ParamSpec("_P")


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
    claim = _new_claim(deps, command, request, order_id, now)
    if claim is None:
        return _place(deps, request, order_id, now, claim=None)

    gate = deps.idempotency_gate
    if gate is not None:
        answer = _claim_in_gate(deps, gate, claim, now)
        if answer is not None:
            return answer
    # The durable record is not read up front: the database's unique key makes
    # a duplicate fail at commit, and a rule rejection asks the record first
    # whether this key was already decided (its answer must win over a re-run
    # rule, say a balance the first order has used). Only those rare paths pay
    # for the read.
    try:
        receipt = _place(deps, request, order_id, now, claim)
    except OrderRejected as rejection:
        earlier = _durable_record(deps, claim)
        if earlier is None:
            is_client_key = command.idempotency_key is not None
            _remember_rejection(deps, claim, rejection, is_client_key=is_client_key)
            raise
    except IdempotencyRecordExists:
        earlier = _durable_record(deps, claim)
    except BaseException:
        if gate is not None:
            _quietly(gate.release, claim.key, claim.token)
        raise
    else:
        if gate is not None:
            # The order is committed; if the fast store missed this, the durable
            # record still answers a retry, so the client gets its receipt now.
            _quietly(gate.finish, claim.completed(receipt))
        return receipt
    return _answer_from_durable_record(deps, request, order_id, claim, earlier)


class _Claim(NamedTuple):
    """This submission's idempotency key and what a record under it must say."""

    key: str
    user_id: UUID
    fingerprint: str
    token: str
    created_at: datetime
    expires_at: datetime

    def pending(self) -> IdempotencyRecord:
        return self._record(IdempotencyState.PENDING)

    def completed(self, receipt: SubmitReceipt) -> IdempotencyRecord:
        return self._record(IdempotencyState.COMPLETED, receipt=receipt)

    def failed(self, rejection: OrderRejected) -> IdempotencyRecord:
        return self._record(IdempotencyState.FAILED, rejection=StoredRejection.of(rejection))

    def _record(
        self,
        state: IdempotencyState,
        *,
        receipt: SubmitReceipt | None = None,
        rejection: StoredRejection | None = None,
    ) -> IdempotencyRecord:
        return IdempotencyRecord(
            key=self.key,
            user_id=self.user_id,
            fingerprint=self.fingerprint,
            state=state,
            token=self.token,
            created_at=self.created_at,
            expires_at=self.expires_at,
            order_id=None if receipt is None else receipt.order_id,
            receipt=receipt,
            rejection=rejection,
        )


def _new_claim(
    deps: Dependencies,
    command: SubmitOrder,
    request: OrderRequest,
    order_id: UUID,
    now: datetime,
) -> _Claim | None:
    policy = deps.policy.idempotency
    if command.idempotency_key is not None:
        key = client_key(request.user_id, command.idempotency_key)
        ttl = policy.key_ttl
    elif policy.derived_key_window:
        key = derive_key(request)
        ttl = policy.derived_key_window
    else:
        return None
    return _Claim(
        key=key,
        user_id=request.user_id,
        fingerprint=request_fingerprint(request),
        # The id of the order this submission will create: unique per attempt,
        # and it tells an operator which order a PENDING key is waiting for.
        token=order_id.hex,
        created_at=now,
        expires_at=now + ttl,
    )


def _claim_in_gate(
    deps: Dependencies, gate: IdempotencyStore, claim: _Claim, now: datetime
) -> SubmitReceipt | None:
    """Take the key in the fast store. None when this submission now owns it,
    else the replayed answer (or the error to raise)."""
    pending = claim.pending()
    existing = gate.begin(pending)
    while existing is not None:
        verdict = judge(existing, claim.fingerprint, now, deps.policy.idempotency.lock_timeout)
        if verdict is not Verdict.RECLAIM:
            return _answer(existing, verdict, deps)
        existing = gate.reclaim(existing, pending)
    return None


def _answer(existing: IdempotencyRecord, verdict: Verdict, deps: Dependencies) -> SubmitReceipt:
    """Replay a decided submission, or raise what the verdict calls for."""
    if verdict is Verdict.REPLAY:
        assert existing.receipt is not None
        return existing.receipt._replace(replayed=True)
    if verdict is Verdict.REPLAY_REJECTION:
        assert existing.rejection is not None
        raise existing.rejection.to_error()
    if verdict is Verdict.KEY_REUSED:
        raise IdempotencyKeyReused()
    retry_after = max(1, int(deps.policy.idempotency.lock_timeout.total_seconds()))
    raise IdempotencyInProgress(retry_after_seconds=retry_after)


def _place(
    deps: Dependencies,
    request: OrderRequest,
    order_id: UUID,
    now: datetime,
    claim: _Claim | None,
) -> SubmitReceipt:
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
            _quietly(release, request.user_id, order.id)
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
    policy = deps.policy
    market = deps.market_data
    user_id, symbol = request.user_id, request.symbol

    check_account(
        deps.accounts.get_account(user_id), deps.accounts.can_trade(user_id, symbol), request
    )
    asset = check_asset(market.get_asset(symbol), request)
    check_market_open(market.is_market_open(symbol), request, policy.validation)
    quote = market.get_quote(symbol)
    if quote is None:
        raise ValidationRejected(
            f"no market price is available for {symbol}",
            code=RejectionCode.SYMBOL_INACTIVE,
            field="symbol",
            value=symbol.value,
        )
    check_prices(request, asset, quote, policy.validation)
    check_quantity(request, policy.validation)

    quantity = request.quantity.value
    position = deps.positions.get_position(user_id, symbol)
    check_sell_position(request, position.available)
    activity = uow.orders.activity(user_id, symbol, request.side, since=_start_of_utc_day(now))
    price = estimated_price(
        request.order_type,
        limit=request.price.value if request.price else None,
        stop=request.stop_price.value if request.stop_price else None,
        market=quote.price,
    )
    value = order_value(quantity, price)
    if request.side is OrderSide.BUY:
        available = deps.balances.get_balance(user_id).available
        held = position.quantity + activity.open_quantity
    else:
        available = held = quantity  # not consulted for SELL
    check_risk(
        request,
        policy.risk,
        order_value=value,
        orders_today=activity.orders_since,
        available_balance=available,
        position_after_open_buys=held,
    )
    order = Order.place(
        id=order_id,
        user_id=user_id,
        symbol=symbol,
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


def _remember_rejection(
    deps: Dependencies,
    claim: _Claim,
    rejection: OrderRejected,
    *,
    is_client_key: bool,
) -> None:
    """Store a rule rejection under a client key so a retry gets the same answer.

    Under a derived key the key is released instead: the user may fix the cause
    (top up, wait for the market) and send the identical order again.
    """
    gate = deps.idempotency_gate
    if not is_client_key:
        if gate is not None:
            _quietly(gate.release, claim.key, claim.token)
        return
    final = claim.failed(rejection)
    if gate is not None:
        _quietly(gate.finish, final)
        return
    with (
        contextlib.suppress(IdempotencyRecordExists, DependencyUnavailable),
        deps.unit_of_work() as uow,
    ):
        uow.idempotency.put(final)
        uow.commit()


def _durable_record(deps: Dependencies, claim: _Claim) -> IdempotencyRecord | None:
    with deps.unit_of_work() as uow:
        return uow.idempotency.get(claim.key, deps.clock.now())


def _answer_from_durable_record(
    deps: Dependencies,
    request: OrderRequest,
    order_id: UUID,
    claim: _Claim,
    existing: IdempotencyRecord | None,
) -> SubmitReceipt:
    """This key was decided before (or is being decided): answer with what the
    database holds, and teach the fast store, if any, the truth."""
    gate = deps.idempotency_gate
    now = deps.clock.now()
    if existing is None:  # expired at this very moment; the client may retry
        if gate is not None:
            _quietly(gate.release, claim.key, claim.token)
        raise IdempotencyInProgress(retry_after_seconds=1)
    verdict = judge(existing, claim.fingerprint, now, deps.policy.idempotency.lock_timeout)
    if verdict is Verdict.RECLAIM and gate is None:
        # A PENDING record whose owner crashed (another process used the database
        # as its gate): adopting its token lets our final record replace it, and
        # a racing reclaimer then loses at the unique key.
        return _place(deps, request, order_id, now, claim._replace(token=existing.token))
    if gate is not None:
        _quietly(gate.finish, existing._replace(token=claim.token))
    return _answer(existing, verdict, deps)


def _quietly(call: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs) -> None:
    """Best-effort follow-up whose failure must not hide the outcome the caller
    already has: an expired claim or hold is reclaimed later anyway."""
    with contextlib.suppress(DependencyUnavailable):
        call(*args, **kwargs)
