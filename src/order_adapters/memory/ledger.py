"""Accounts, cash and positions held in memory.

One object plays the account service, the balance service and the position
keeper, with the semantics the core relies on: every cash movement is keyed by
its order and happens at most once; a reversal undoes it; positions change only
when an ``OrderExecuted`` event is applied (once per order, however often it is
delivered).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from order_core.decimals import parse_decimal
from order_core.errors import InsufficientBalance
from order_core.events import OrderExecuted
from order_core.ports import AccountStatus, Balance
from order_core.values import OrderSide, Symbol

__all__ = ["InMemoryLedger"]

_ZERO = Decimal(0)


@dataclass(slots=True)
class _Account:
    status: AccountStatus
    tradeable: frozenset[Symbol] | None
    cash: Decimal
    reserved: Decimal


# The money one order has moved: (hold, settlement (negative for a deduct),
# settled?, reversed for good?). A plain tuple of plain values, not a class or a
# NamedTuple: the garbage collector stops tracking exact tuples of atoms, so a
# ledger of millions of orders costs it nothing.
_Entry = tuple[Decimal, Decimal, bool, bool]
_NO_ENTRY: _Entry = (_ZERO, _ZERO, False, False)


class InMemoryLedger:
    """:class:`~order_core.ports.Accounts`, :class:`~order_core.ports.Balances`
    and :class:`~order_core.ports.Positions` in one thread-safe object."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Keyed by the UUIDs' ints: UUID hashing runs in Python, int hashing does not.
        self._accounts: dict[int, _Account] = {}
        self._orders: dict[int, _Entry] = {}  # by order id's int
        self._positions: dict[tuple[int, str], Decimal] = {}
        self._applied_executions: set[int] = set()

    # -- setting up ---------------------------------------------------------------------

    def open_account(
        self,
        user_id: UUID,
        *,
        cash: Decimal | str | int = 0,
        positions: Mapping[Symbol | str, Decimal | str | int] | None = None,
        active: bool = True,
        tradeable: Iterable[Symbol | str] | None = None,
    ) -> None:
        """Create (or reset) an account with its cash and holdings. ``tradeable``
        limits the symbols it may trade (None: all)."""
        allowed = None if tradeable is None else frozenset(Symbol.parse(s) for s in tradeable)
        with self._lock:
            self._accounts[user_id.int] = _Account(
                status=AccountStatus(user_id=user_id, active=active),
                tradeable=allowed,
                cash=parse_decimal(cash, field="cash"),
                reserved=_ZERO,
            )
            for symbol, quantity in (positions or {}).items():
                key = (user_id.int, str.__str__(Symbol.parse(symbol)))
                self._positions[key] = parse_decimal(quantity, field="quantity")

    def set_active(self, user_id: UUID, active: bool) -> None:
        with self._lock:
            self._accounts[user_id.int].status = AccountStatus(user_id=user_id, active=active)

    def users(self) -> list[UUID]:
        with self._lock:
            return [account.status.user_id for account in self._accounts.values()]

    def holdings(self, user_id: UUID) -> dict[Symbol, Decimal]:
        """Every non-zero position of the user."""
        with self._lock:
            return {
                Symbol(symbol): quantity
                for (owner, symbol), quantity in self._positions.items()
                if owner == user_id.int and quantity
            }

    # -- Accounts -----------------------------------------------------------------------

    def get_account(self, user_id: UUID) -> AccountStatus | None:
        account = self._accounts.get(user_id.int)
        return None if account is None else account.status

    def can_trade(self, user_id: UUID, symbol: Symbol) -> bool:
        account = self._accounts.get(user_id.int)
        if account is None or not account.status.active:
            return False
        return account.tradeable is None or symbol in account.tradeable

    # -- Balances -----------------------------------------------------------------------

    def get_balance(self, user_id: UUID) -> Balance:
        with self._lock:
            account = self._accounts.get(user_id.int)
            if account is None:
                return Balance(user_id=user_id, cash=_ZERO, reserved=_ZERO)
            return Balance(user_id=user_id, cash=account.cash, reserved=account.reserved)

    def reserve(self, user_id: UUID, amount: Decimal, order_id: UUID) -> None:
        key = order_id.int
        with self._lock:
            reserved, settled, is_settled, is_reversed = self._orders.get(key, _NO_ENTRY)
            if reserved or is_settled or is_reversed:
                return
            account = self._account(user_id)
            available = account.cash - account.reserved
            if amount > available:
                raise InsufficientBalance(available=available, required=amount)
            account.reserved += amount
            self._orders[key] = (amount, settled, False, False)

    def release(self, user_id: UUID, order_id: UUID) -> None:
        key = order_id.int
        with self._lock:
            reserved, settled, is_settled, is_reversed = self._orders.get(key, _NO_ENTRY)
            if reserved:
                self._account(user_id).reserved -= reserved
                self._orders[key] = (_ZERO, settled, is_settled, is_reversed)

    def deduct(self, user_id: UUID, amount: Decimal, order_id: UUID) -> None:
        key = order_id.int
        with self._lock:
            reserved, _, is_settled, is_reversed = self._orders.get(key, _NO_ENTRY)
            if is_settled or is_reversed:
                return
            account = self._account(user_id)
            available = account.cash - account.reserved + reserved
            if amount > available:
                raise InsufficientBalance(available=available, required=amount)
            account.reserved -= reserved
            account.cash -= amount
            self._orders[key] = (_ZERO, -amount, True, False)

    def credit(self, user_id: UUID, amount: Decimal, order_id: UUID) -> None:
        key = order_id.int
        with self._lock:
            reserved, _, is_settled, is_reversed = self._orders.get(key, _NO_ENTRY)
            if is_settled or is_reversed:
                return
            self._account(user_id).cash += amount
            self._orders[key] = (reserved, amount, True, False)

    def reverse(self, user_id: UUID, order_id: UUID) -> None:
        key = order_id.int
        with self._lock:
            reserved, settled, _, is_reversed = self._orders.get(key, _NO_ENTRY)
            if is_reversed:
                return
            account = self._account(user_id)
            account.reserved -= reserved
            account.cash -= settled
            self._orders[key] = (_ZERO, _ZERO, False, True)

    def _account(self, user_id: UUID) -> _Account:
        account = self._accounts.get(user_id.int)
        if account is None:
            # Unknown users hold nothing; anything that needs money fails the same way.
            account = self._accounts[user_id.int] = _Account(
                status=AccountStatus(user_id=user_id, active=False),
                tradeable=frozenset(),
                cash=_ZERO,
                reserved=_ZERO,
            )
        return account

    # -- Positions ----------------------------------------------------------------------

    def get_position(self, user_id: UUID, symbol: Symbol) -> Decimal:
        return self._positions.get((user_id.int, str.__str__(symbol)), _ZERO)

    def apply_execution(self, event: OrderExecuted) -> None:
        """Update the position for an executed order, once per order (the
        position keeper's side of ``positions.updates``)."""
        with self._lock:
            if event.order_id.int in self._applied_executions:
                return
            self._applied_executions.add(event.order_id.int)
            key = (event.user_id.int, str.__str__(event.symbol))
            change = event.quantity if event.order_side is OrderSide.BUY else -event.quantity
            self._positions[key] = self._positions.get(key, _ZERO) + change
