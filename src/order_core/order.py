"""The Order aggregate: its fields (the seed's plus ``stop_price``,
``failure_reason``, ``triggered_at`` and ``version``), its state machine and the
events it records.

The class is plain Python: persistence adapters map it from the outside, and
every status change goes through one guarded method so an illegal transition
can never slip through.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from order_core.errors import IllegalTransition, InvalidInput, OrderNotCancellable
from order_core.events import (
    OrderCancelled,
    OrderEvent,
    OrderExecuted,
    OrderFailed,
    OrderSubmitted,
)
from order_core.rules.pricing import (
    EXECUTE_NOW,
    Evaluation,
    estimated_price,
    evaluate,
    order_value,
)
from order_core.values import (
    PRICED_TYPES,
    STOP_TYPES,
    TERMINAL_STATUSES,
    OrderSide,
    OrderStatus,
    OrderType,
    Price,
    Quantity,
    Symbol,
)

if TYPE_CHECKING:
    from order_core.records import Quote

__all__ = ["Order", "check_prices_for_type"]

_new = object.__new__


def check_prices_for_type(
    order_type: OrderType, price: Price | None, stop_price: Price | None
) -> None:
    """MARKET takes no price; LIMIT needs ``price``; STOP_LOSS needs ``stop_price``;
    STOP_LIMIT needs both. Raises :class:`InvalidInput` naming the field."""
    priced = order_type in PRICED_TYPES
    stopped = order_type in STOP_TYPES
    if priced and price is None:
        raise InvalidInput(
            f"price is required for {order_type} orders",
            code="PRICE_REQUIRED",
            field="price",
        )
    if not priced and price is not None:
        raise InvalidInput(
            f"price is not allowed for {order_type} orders",
            code="PRICE_NOT_ALLOWED",
            field="price",
            value=price.value,
        )
    if stopped and stop_price is None:
        raise InvalidInput(
            f"stop_price is required for {order_type} orders",
            code="STOP_PRICE_REQUIRED",
            field="stop_price",
        )
    if not stopped and stop_price is not None:
        raise InvalidInput(
            f"stop_price is not allowed for {order_type} orders",
            code="STOP_PRICE_NOT_ALLOWED",
            field="stop_price",
            value=stop_price.value,
        )


class Order:
    """A trading order. Create new ones with :meth:`place`; stores rebuild the
    ones they hold with :meth:`restore`."""

    __slots__ = (
        "_events",
        "_status",
        "attempts",
        "created_at",
        "executed_at",
        "execution_price",
        "failure_reason",
        "id",
        "market_data_timestamp",
        "market_price_at_submission",
        "next_attempt_at",
        "order_type",
        "position_applied_at",
        "price",
        "quantity",
        "side",
        "stop_price",
        "symbol",
        "triggered_at",
        "updated_at",
        "user_id",
        "version",
    )

    id: UUID
    user_id: UUID
    symbol: Symbol
    side: OrderSide
    order_type: OrderType
    quantity: Quantity
    price: Price | None
    stop_price: Price | None
    _status: OrderStatus
    created_at: datetime
    updated_at: datetime
    executed_at: datetime | None
    execution_price: Decimal | None
    market_price_at_submission: Decimal | None
    market_data_timestamp: datetime | None
    failure_reason: str | None
    triggered_at: datetime | None
    version: int
    #: Processing attempts that failed for a transient reason, and when the
    #: next one is due: retries survive the process that scheduled them.
    attempts: int
    next_attempt_at: datetime | None
    #: When the position keeper applied this EXECUTED order (None until then).
    position_applied_at: datetime | None
    _events: tuple[OrderEvent, ...]

    def __init__(self) -> None:
        raise TypeError("create an Order with Order.place (new) or Order.restore (stored)")

    @classmethod
    def restore(  # noqa: PLR0917  # positional: a keyword call costs most on this hot path
        cls,
        id: UUID,
        user_id: UUID,
        symbol: Symbol,
        side: OrderSide,
        order_type: OrderType,
        quantity: Quantity,
        price: Price | None,
        stop_price: Price | None,
        status: OrderStatus,
        created_at: datetime,
        updated_at: datetime,
        executed_at: datetime | None,
        execution_price: Decimal | None,
        market_price_at_submission: Decimal | None,
        market_data_timestamp: datetime | None,
        failure_reason: str | None,
        triggered_at: datetime | None,
        version: int,
        attempts: int = 0,
        next_attempt_at: datetime | None = None,
        position_applied_at: datetime | None = None,
        /,
    ) -> Order:
        """A stored order, exactly as it was written, with no pending events.

        Trusted: nothing is checked, as stores hold only orders that were valid
        when written. Positional only: stores read orders on every request, and
        keyword passing would be the largest cost of the call.
        """
        order = _new(cls)
        order.id = id
        order.user_id = user_id
        order.symbol = symbol
        order.side = side
        order.order_type = order_type
        order.quantity = quantity
        order.price = price
        order.stop_price = stop_price
        order._status = status
        order.created_at = created_at
        order.updated_at = updated_at
        order.executed_at = executed_at
        order.execution_price = execution_price
        order.market_price_at_submission = market_price_at_submission
        order.market_data_timestamp = market_data_timestamp
        order.failure_reason = failure_reason
        order.triggered_at = triggered_at
        order.version = version
        order.attempts = attempts
        order.next_attempt_at = next_attempt_at
        order.position_applied_at = position_applied_at
        order._events = ()
        return order

    @classmethod
    def place(
        cls,
        *,
        id: UUID,
        user_id: UUID,
        symbol: Symbol,
        side: OrderSide,
        order_type: OrderType,
        quantity: Quantity,
        price: Price | None,
        stop_price: Price | None,
        market_price: Decimal,
        market_data_timestamp: datetime,
        now: datetime,
    ) -> Order:
        """A new PENDING order, with the market context it was accepted in;
        records :class:`OrderSubmitted`."""
        check_prices_for_type(order_type, price, stop_price)
        order = cls.restore(
            id,
            user_id,
            symbol,
            side,
            order_type,
            quantity,
            price,
            stop_price,
            OrderStatus.PENDING,
            now,  # created_at
            now,  # updated_at
            None,  # executed_at
            None,  # execution_price
            market_price,
            market_data_timestamp,
            None,  # failure_reason
            None,  # triggered_at
            1,  # version
        )
        order._record(
            OrderSubmitted(
                order_id=id,
                user_id=user_id,
                symbol=symbol,
                order_side=side,
                order_type=order_type,
                quantity=quantity.value,
                occurred_at=now,
                price=price.value if price else None,
                stop_price=stop_price.value if stop_price else None,
                status=OrderStatus.PENDING,
                created_at=now,
                market_price_at_submission=market_price,
                market_data_timestamp=market_data_timestamp,
            )
        )
        return order

    # -- derived values ---------------------------------------------------------

    @property
    def status(self) -> OrderStatus:
        """Read-only: it changes only through the transition methods below."""
        return self._status

    @property
    def is_terminal(self) -> bool:
        return self._status in TERMINAL_STATUSES

    @property
    def estimated_price(self) -> Decimal | None:
        """Limit for LIMIT/STOP_LIMIT, stop for STOP_LOSS, the market price at
        submission for MARKET (None for a migrated MARKET order without one)."""
        market = self.market_price_at_submission
        if self.order_type is OrderType.MARKET and market is None:
            return None
        return estimated_price(
            self.order_type,
            limit=self.price.value if self.price else None,
            stop=self.stop_price.value if self.stop_price else None,
            market=market if market is not None else Decimal(0),
        )

    @property
    def estimated_value(self) -> Decimal | None:
        price = self.estimated_price
        return None if price is None else order_value(self.quantity.value, price)

    @property
    def cash_held(self) -> Decimal:
        """Cash a live BUY holds: its estimated value (nothing for a SELL)."""
        if self.side is not OrderSide.BUY:
            return Decimal(0)
        return self.estimated_value or Decimal(0)

    @property
    def execution_value(self) -> Decimal | None:
        """quantity x execution price, once EXECUTED."""
        if self._status is not OrderStatus.EXECUTED or self.execution_price is None:
            return None
        return order_value(self.quantity.value, self.execution_price)

    def evaluate(self, market_price: Decimal) -> Evaluation:
        """Whether this order executes at ``market_price`` now (rules in
        :mod:`order_core.rules.pricing`)."""
        if self.order_type is OrderType.MARKET:
            return EXECUTE_NOW
        return evaluate(
            self.order_type,
            self.side,
            limit=self.price.value if self.price else None,
            stop=self.stop_price.value if self.stop_price else None,
            already_triggered=self.triggered_at is not None,
            market=market_price,
        )

    # -- behaviour ----------------------------------------------------------------

    def trigger(self, now: datetime) -> None:
        """Remember that the stop was crossed (STOP orders while PENDING)."""
        if self.order_type not in STOP_TYPES or self._status is not OrderStatus.PENDING:
            raise IllegalTransition(self.id, str(self._status), "TRIGGERED")
        if self.triggered_at is None:
            self.triggered_at = now
            self.updated_at = now

    def start_processing(self, quote: Quote, now: datetime) -> None:
        """PENDING -> PROCESSING, fixing the price it is being executed at (and
        the time of that price), so a retried execution settles exactly the
        same amount."""
        self._move(OrderStatus.PROCESSING, now)
        self.execution_price = quote.price
        self.market_data_timestamp = quote.timestamp
        self.next_attempt_at = None

    def execute(self, now: datetime) -> None:
        """PROCESSING -> EXECUTED at the price fixed by :meth:`start_processing`;
        records :class:`OrderExecuted`."""
        self._move(OrderStatus.EXECUTED, now)
        self.next_attempt_at = None
        price = self.execution_price
        assert price is not None  # set by start_processing, the only way into PROCESSING
        self.executed_at = now
        self._record(
            OrderExecuted(
                order_id=self.id,
                user_id=self.user_id,
                symbol=self.symbol,
                order_side=self.side,
                order_type=self.order_type,
                quantity=self.quantity.value,
                occurred_at=now,
                execution_price=price,
                executed_at=now,
                total_value=order_value(self.quantity.value, price),
                market_price_at_exec=price,
                market_data_timestamp=self.market_data_timestamp or now,
            )
        )

    def schedule_retry(self, due: datetime, now: datetime) -> None:
        """A transient failure: count the attempt and say when to try again."""
        if self._status in TERMINAL_STATUSES:
            raise IllegalTransition(self.id, str(self._status), "RETRY")
        self.attempts += 1
        self.next_attempt_at = due
        self.updated_at = now

    def fail(self, reason: str, now: datetime) -> None:
        """PENDING or PROCESSING -> FAILED with ``reason``; records :class:`OrderFailed`."""
        previous = self._status
        self._move(OrderStatus.FAILED, now)
        self.next_attempt_at = None
        self.failure_reason = reason
        self.execution_price = None
        self._record(
            OrderFailed(
                order_id=self.id,
                user_id=self.user_id,
                symbol=self.symbol,
                order_side=self.side,
                order_type=self.order_type,
                quantity=self.quantity.value,
                occurred_at=now,
                reason=reason,
                previous_status=previous,
            )
        )

    def cancel(self, now: datetime) -> None:
        """PENDING or PROCESSING -> CANCELLED; records :class:`OrderCancelled`.
        A terminal order raises :class:`OrderNotCancellable` naming its status."""
        if self._status in TERMINAL_STATUSES:
            raise OrderNotCancellable(self.id, str(self._status))
        previous = self._status
        self._move(OrderStatus.CANCELLED, now)
        self.execution_price = None
        self.next_attempt_at = None
        self._record(
            OrderCancelled(
                order_id=self.id,
                user_id=self.user_id,
                symbol=self.symbol,
                order_side=self.side,
                order_type=self.order_type,
                quantity=self.quantity.value,
                occurred_at=now,
                previous_status=previous,
            )
        )

    def pull_events(self) -> tuple[OrderEvent, ...]:
        """Hand over the events recorded since the last call (for the outbox)."""
        events, self._events = self._events, ()
        return events

    def copy(self) -> Order:
        """An independent copy without pending events (for stores that keep
        their own snapshot)."""
        return Order.restore(
            self.id,
            self.user_id,
            self.symbol,
            self.side,
            self.order_type,
            self.quantity,
            self.price,
            self.stop_price,
            self._status,
            self.created_at,
            self.updated_at,
            self.executed_at,
            self.execution_price,
            self.market_price_at_submission,
            self.market_data_timestamp,
            self.failure_reason,
            self.triggered_at,
            self.version,
            self.attempts,
            self.next_attempt_at,
            self.position_applied_at,
        )

    # -- internals ------------------------------------------------------------------

    def _record(self, event: OrderEvent) -> None:
        # A tuple, not a list: most orders hold no events, and stored copies share ().
        self._events = (*self._events, event)

    def _move(self, target: OrderStatus, now: datetime) -> None:
        """The one way to change the status: only along the state machine."""
        if not self._status.can_become(target):
            raise IllegalTransition(self.id, str(self._status), str(target))
        self._status = target
        self.updated_at = now

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Order):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _STATE_SLOTS)

    __hash__ = None  # type: ignore[assignment]  # mutable: equal by value, not hashable

    def __repr__(self) -> str:
        return (
            f"Order(id={self.id}, user_id={self.user_id}, {self.side} {self.quantity} "
            f"{self.symbol} {self.order_type}, status={self._status}, version={self.version})"
        )


_STATE_SLOTS = tuple(name for name in Order.__slots__ if name != "_events")
