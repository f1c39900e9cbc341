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
    "Ledger",
    "IdempotencyRecords",
    "IdempotencyStore",
    "Inbox",
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

    def trading_status(self, user_id: UUID, symbol: Symbol) -> tuple[AccountStatus | None, bool]:
        """Both answers at once, ``(get_account(user_id), can_trade(user_id,
        symbol))``, from one read: what a submission checks."""
        ...


class Balances(Protocol):
    """Cash, read (what a user sees; money moves through :class:`Ledger`)."""

    def get_balance(self, user_id: UUID) -> Balance: ...


class Positions(Protocol):
    """Holdings, read. They change when the position keeper applies an
    execution, which may lag it; what a SELL may still sell is the holding less
    the user's open SELLs and executed SELLs not yet applied (the service's own
    orders, see :meth:`OrderRepository.activity`)."""

    def get_position(self, user_id: UUID, symbol: Symbol) -> Position:
        """The user's holding of ``symbol`` (zero when none)."""
        ...


class Ledger(Protocol):
    """The account ledger seen from inside a unit of work: every movement of
    cash or shares commits (or rolls back) with the order change that causes
    it, so money is moved exactly once per transition and never without it.

    Call :meth:`OrderRepository.lock_user` first in a transaction that reads or
    moves a user's money: reads then see every committed movement, and no
    other transaction moves that user's money until this one ends."""

    def cash(self, user_id: UUID) -> Balance:
        """The user's cash and what is held of it (zero for an unknown user)."""
        ...

    def position(self, user_id: UUID, symbol: Symbol) -> Decimal:
        """The user's holding of ``symbol`` as the position keeper has applied it."""
        ...

    def hold(self, user_id: UUID, order_id: UUID, amount: Decimal) -> None:
        """Hold ``amount`` of cash for a BUY order. Raises
        :class:`~order_core.errors.InsufficientBalance` (here or at commit) when
        it is not available."""
        ...

    def release(self, user_id: UUID, order_id: UUID, amount: Decimal) -> None:
        """Let go of a hold of ``amount`` (the order ended unexecuted)."""
        ...

    def settle(self, user_id: UUID, order_id: UUID, *, paid: Decimal, held: Decimal) -> None:
        """Move an execution's cash: ``paid`` is added to cash (negative for a
        BUY) and its hold ``held`` let go. Raises
        :class:`~order_core.errors.InsufficientBalance` (here or at commit) when
        a BUY would take cash below what stays held for other orders."""
        ...

    def move_position(self, user_id: UUID, symbol: Symbol, change: Decimal) -> None:
        """Apply an execution to the holding (the position keeper's part)."""
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

    def activity(self, user_id: UUID, symbol: Symbol, *, since: datetime) -> OrderActivity:
        """What the risk rules read for every submission, in one query: the
        user's orders since ``since``, and per side the quantity of ``symbol``
        still to move the holding (open orders, and executed ones whose
        position update is not applied yet)."""
        ...

    def expect_activity(self, user_id: UUID, symbol: Symbol, *, since: datetime) -> None:
        """Say that :meth:`activity` of these arguments comes next in this
        transaction: an adapter may read it along with the lock (one round trip
        fewer); one that reads it when asked does nothing here."""
        ...

    def lock_user(self, user_id: UUID) -> None:
        """Serialise this transaction with every other one that moves the
        user's orders or money, until it ends (a row lock; a lock per user in
        memory). Take it before reading what a decision depends on."""
        ...

    def mark_position_applied(self, order_id: UUID, at: datetime) -> bool:
        """Record that an EXECUTED order's position update was applied; False
        when it already was (or the order is not EXECUTED): apply nothing then.
        An adapter that finds out only when the write is sent answers True and
        makes the commit raise :class:`~order_core.errors.ConcurrencyConflict`."""
        ...

    def needing_recovery(self, *, now: datetime, stale_before: datetime) -> list[Order]:
        """Orders whose work was abandoned, oldest first: a retry that is due
        (``next_attempt_at <= now``), PROCESSING untouched since ``stale_before``,
        PENDING MARKET orders untouched since then (their message was lost), and
        EXECUTED orders whose position update was not applied by then."""
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


class Inbox(Protocol):
    """Messages a consumer has handled, each recorded in the transaction of its
    effect: a redelivered message found here changes nothing. Records are
    kept longer than the longest retry path, then forgotten."""

    def seen(self, message_id: UUID, consumer: str) -> bool:
        """Whether ``consumer`` committed the effect of message ``message_id``."""
        ...

    def record(self, message_id: UUID, consumer: str, at: datetime) -> None:
        """Record the message as handled, with this transaction (a second
        record of the same message is no error and changes nothing)."""
        ...

    def forget_before(self, before: datetime) -> None:
        """Drop the records made before ``before``, with this transaction."""
        ...


class UnitOfWork(Protocol):
    """Transactions over orders, outbox, idempotency records and the ledger: everything
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

    @property
    def ledger(self) -> Ledger: ...

    @property
    def inbox(self) -> Inbox: ...

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
    def mark_sent(self, message_ids: Sequence[UUID]) -> None:
        """Record messages as sent that were delivered outside a claim (an
        in-process relay delivers them itself, then marks them)."""
        ...

    def claim(self, limit: int) -> AbstractContextManager[OutboxBatch]:
        """Claim up to ``limit`` committed, unsent messages, oldest first."""
        ...


class MessagePublisher(Protocol):
    def publish(self, messages: Sequence[OutboxMessage]) -> None:
        """Hand messages to the broker; returns only once it confirmed all of them."""
        ...
