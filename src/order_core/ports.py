"""The ports the use cases need, as ``typing.Protocol``s. The plain records
they exchange are in :mod:`order_core.records`.

Adapters implement them structurally (no inheritance needed). Every method that
talks to something outside the process may raise
:class:`~order_core.errors.DependencyUnavailable`; adapters translate their
driver errors into it (``raise ... from error``), never leak them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from order_core.events import OutboxMessage
from order_core.order import Order
from order_core.records import (
    AccountStatus,
    AssetDetails,
    Balance,
    IdempotencyRecord,
    OrderActivity,
    OrderPage,
    Position,
    Quote,
    TradingHours,
)
from order_core.values import OrderSide, OrderStatus, Symbol

__all__ = [
    "Accounts",
    "Balances",
    "Clock",
    "IdGenerator",
    "IdempotencyRecords",
    "IdempotencyStore",
    "MarketData",
    "MessagePublisher",
    "OrderRepository",
    "Outbox",
    "OutboxBatch",
    "OutboxWriter",
    "Positions",
    "UnitOfWork",
    "UnitOfWorkFactory",
]


# -- time and identity ----------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> UUID:
        """A fresh, unique id (orders, outbox messages, idempotency tokens)."""
        ...


# -- market data -------------------------------------------------------


class MarketData(Protocol):
    def get_asset(self, symbol: Symbol) -> AssetDetails | None:
        """The asset's details, or None when the symbol does not exist."""
        ...

    def get_quote(self, symbol: Symbol) -> Quote | None:
        """The current price, or None when the symbol has none."""
        ...

    def get_quotes(self, symbols: Iterable[Symbol]) -> Mapping[Symbol, Quote]:
        """Current prices of many symbols in one call; unknown symbols are left out."""
        ...

    def is_market_open(self, symbol: Symbol) -> bool: ...

    def get_trading_hours(self, symbol: Symbol) -> TradingHours: ...


# -- accounts, balances, positions ------------------------------


class Accounts(Protocol):
    def get_account(self, user_id: UUID) -> AccountStatus | None:
        """The account's status, or None when the user has no account."""
        ...

    def can_trade(self, user_id: UUID, symbol: Symbol) -> bool:
        """Whether the user is authorised to trade the symbol."""
        ...


class Balances(Protocol):
    """Cash. Every mutation is keyed by the order it serves and is idempotent per
    order, so a retried step never moves money twice (a saga with compensations)."""

    def get_balance(self, user_id: UUID) -> Balance: ...

    def reserve(self, user_id: UUID, amount: Decimal, order_id: UUID) -> None:
        """Hold ``amount`` for the order. Raises
        :class:`~order_core.errors.InsufficientBalance` when it is not available."""
        ...

    def release(self, user_id: UUID, order_id: UUID) -> None:
        """Drop the order's hold, if any."""
        ...

    def deduct(self, user_id: UUID, amount: Decimal, order_id: UUID) -> None:
        """Pay for an executed BUY, consuming its hold. Raises
        :class:`~order_core.errors.InsufficientBalance` when cash (plus the hold)
        does not cover ``amount``."""
        ...

    def credit(self, user_id: UUID, amount: Decimal, order_id: UUID) -> None:
        """Pay out an executed SELL."""
        ...

    def reverse(self, user_id: UUID, order_id: UUID) -> None:
        """Compensate: undo the order's deduct or credit, if one was made, and
        its hold. Afterwards the order can move no more money."""
        ...


class Positions(Protocol):
    """Holdings. Positions change when the position keeper applies an
    ``OrderExecuted`` event, which may lag the execution; a SELL therefore
    holds its quantity from submission until its execution is applied (or it
    ends otherwise), so what is available to sell is right at every moment."""

    def get_position(self, user_id: UUID, symbol: Symbol) -> Position:
        """The user's holding of ``symbol`` (zero when none)."""
        ...

    def reserve(self, user_id: UUID, symbol: Symbol, quantity: Decimal, order_id: UUID) -> None:
        """Hold ``quantity`` for a SELL order. Raises
        :class:`~order_core.errors.InsufficientPosition` when it is not
        available. Idempotent per order."""
        ...

    def release(self, user_id: UUID, order_id: UUID) -> None:
        """Drop the order's hold, if it has one (the order ended unexecuted)."""
        ...


# -- persistence ------------------------------------------------------------------


class OrderRepository(Protocol):
    """The ``orders`` table (docs/contracts.md). Lists are newest first (ties broken by id,
    so pages are stable) unless stated otherwise."""

    def add(self, order: Order) -> None:
        """Insert a new order (its version is 1)."""
        ...

    def get(self, order_id: UUID) -> Order | None:
        """FindByID."""
        ...

    def update(self, order: Order) -> None:
        """Write the order's changes if its stored version is still
        ``order.version``; bump the version (stored and on ``order``). Raises
        :class:`~order_core.errors.ConcurrencyConflict` when another writer
        got there first, and then writes nothing."""
        ...

    def list_by_user(self, user_id: UUID, status: OrderStatus | None = None) -> list[Order]:
        """FindByUserID, FindByUserIDAndStatus."""
        ...

    def list_by_status(
        self,
        status: OrderStatus,
        *,
        symbols: Iterable[Symbol] | None = None,
        limit: int | None = None,
    ) -> list[Order]:
        """FindByStatus, oldest first (the order a sweep serves them in)."""
        ...

    def history(
        self, user_id: UUID, *, limit: int, offset: int, status: OrderStatus | None = None
    ) -> OrderPage:
        """FindOrderHistory: one page and the total count of matching orders."""
        ...

    def list_by_symbol(self, symbol: Symbol, status: OrderStatus | None = None) -> list[Order]:
        """FindOrdersBySymbol."""
        ...

    def list_by_date_range(self, user_id: UUID, start: datetime, end: datetime) -> list[Order]:
        """FindOrdersByDateRange: created at or after ``start`` and before ``end``."""
        ...

    def count_by_user(self, user_id: UUID, *, since: datetime | None = None) -> int:
        """CountOrdersByUserID, optionally only those created at or after ``since``."""
        ...

    def open_quantity(self, user_id: UUID, symbol: Symbol, side: OrderSide) -> Decimal:
        """Total quantity of the user's PENDING and PROCESSING orders on one side
        of one symbol (what they have asked to buy or sell and may still)."""
        ...

    def activity(
        self, user_id: UUID, symbol: Symbol, side: OrderSide, *, since: datetime
    ) -> OrderActivity:
        """``count_by_user(since=since)`` and ``open_quantity(...)`` together: what
        the risk rules read for every submission, in one query."""
        ...


class OutboxWriter(Protocol):
    def add(self, messages: Iterable[OutboxMessage]) -> None:
        """Stage messages; they become visible to the relay when the unit of work commits."""
        ...


class IdempotencyRecords(Protocol):
    """The durable idempotency records, written inside the order's transaction:
    the database's unique key is the truth, whatever a fast store in front says."""

    def get(self, key: str, now: datetime) -> IdempotencyRecord | None:
        """The live (unexpired) record under ``key``."""
        ...

    def put(self, record: IdempotencyRecord) -> None:
        """Store a final (COMPLETED or FAILED) record. Allowed when no live record
        holds the key, or when the live one is PENDING with ``record.token``;
        otherwise raises :class:`~order_core.errors.IdempotencyRecordExists`
        (here or at commit)."""
        ...


class UnitOfWork(Protocol):
    """Transactions over orders, outbox and idempotency records: everything
    written since the last commit commits together, or none of it does.
    :meth:`commit` (or :meth:`rollback`) ends one transaction and the next use
    begins another; leaving the ``with`` block rolls back whatever is
    uncommitted. A unit of work is for one thread, and is not used after its
    ``with`` block."""

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def outbox(self) -> OutboxWriter: ...

    @property
    def idempotency(self) -> IdempotencyRecords: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


# -- idempotency fast path ----------------------------------------------------------------


class IdempotencyStore(Protocol):
    """Key -> record with atomic claims (docs/library.md, "Idempotency"). Ownership is proven by the
    record's token, never by "the key existed". Records past ``expires_at``
    count as absent."""

    def begin(self, claim: IdempotencyRecord) -> IdempotencyRecord | None:
        """Atomically store the PENDING ``claim`` if no live record holds its key.
        Returns None when the claim was stored, else the live record (unchanged)."""
        ...

    def reclaim(
        self, stale: IdempotencyRecord, claim: IdempotencyRecord
    ) -> IdempotencyRecord | None:
        """Replace the PENDING record ``stale`` (matched by its token) with ``claim``.
        Returns None on success (also when the key has meanwhile become free),
        else the live record now holding the key."""
        ...

    def finish(self, record: IdempotencyRecord) -> bool:
        """Store the final (COMPLETED or FAILED) ``record`` if ``record.token``
        still holds the key (a PENDING record with that token, or already this
        final record). Returns whether it did."""
        ...

    def release(self, key: str, token: str) -> bool:
        """Delete the PENDING record held by ``token`` (after a transient failure,
        so a retry can go through). Returns whether it did."""
        ...

    def get(self, key: str, now: datetime) -> IdempotencyRecord | None:
        """The live record under ``key``."""
        ...


# -- outbox relay and broker ---------------------------------------------------------------


class OutboxBatch(Protocol):
    """Messages claimed for publishing. No other relay sees them while claimed;
    leaving the ``with`` block without :meth:`mark_sent` returns them."""

    @property
    def messages(self) -> Sequence[OutboxMessage]: ...

    def mark_sent(self) -> None:
        """Record the whole batch as sent (call only after the broker confirmed)."""
        ...


class Outbox(Protocol):
    def claim(self, limit: int) -> AbstractContextManager[OutboxBatch]:
        """Claim up to ``limit`` committed, unsent messages, oldest first."""
        ...


class MessagePublisher(Protocol):
    def publish(self, messages: Sequence[OutboxMessage]) -> None:
        """Hand messages to the broker; returns only once it confirmed all of them."""
        ...
