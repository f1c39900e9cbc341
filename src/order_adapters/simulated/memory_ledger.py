"""Simulated accounts, cash and positions held in memory.

:class:`InMemoryLedger` owns the state; its ``accounts``, ``balances`` and
``positions`` attributes are the three ports the core needs, with the semantics
it relies on: every movement is keyed by its order and happens at most once; a
reversal undoes a settlement; positions change only when an ``OrderExecuted``
event is applied (once per order, however often it is delivered), and a SELL
holds its quantity until then.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from order_adapters.memory.rows import Table
from order_core.decimals import parse_decimal
from order_core.errors import InsufficientBalance, InsufficientPosition
from order_core.events import OrderExecuted
from order_core.records import AccountStatus, Balance, Position
from order_core.values import OrderSide, Symbol

__all__ = ["InMemoryAccounts", "InMemoryBalances", "InMemoryLedger", "InMemoryPositions"]

_ZERO = Decimal(0)

# The cash one order has moved: (hold, settlement (negative for a deduct),
# settled?, reversed for good?). A plain tuple of plain values, not a class or a
# NamedTuple: the garbage collector stops tracking exact tuples of atoms, so a
# ledger of millions of orders costs it nothing.
_CashEntry = tuple[Decimal, Decimal, bool, bool]
_NO_CASH: _CashEntry = (_ZERO, _ZERO, False, False)


@dataclass(slots=True)
class _Account:
    status: AccountStatus
    tradeable: frozenset[str] | None
    cash: Decimal
    reserved: Decimal


class InMemoryLedger:
    """The simulated account, balance and position services, thread-safe.
    Keys are the UUIDs' ints and the symbols' text (UUID hashing runs in Python)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.account_table: dict[int, _Account] = {}
        self.cash_entries: Table[int, _CashEntry] = Table()
        self.quantities: dict[tuple[int, str], Decimal] = {}
        self.held_quantities: dict[tuple[int, str], Decimal] = {}
        self.quantity_holds: Table[int, tuple[int, str, Decimal]] = Table()
        # A dict of ints, not a set: sets are always scanned by the garbage
        # collector, a dict holding only ints is never tracked at all.
        self.applied_executions: dict[int, None] = {}
        self.accounts = InMemoryAccounts(self)
        self.balances = InMemoryBalances(self)
        self.positions = InMemoryPositions(self)

    def open_account(
        self,
        user_id: UUID,
        *,
        cash: Decimal | str | int = 0,
        positions: Mapping[Symbol | str, Decimal | str | int] | None = None,
        active: bool = True,
        tradeable: Iterable[Symbol | str] | None = None,
        if_missing: bool = False,
    ) -> bool:
        """Create (or reset) an account with its cash and holdings. ``tradeable``
        limits the symbols it may trade (None: all). With ``if_missing`` an
        existing account is left as it is. Whether it was written."""
        allowed = None if tradeable is None else frozenset(Symbol.parse(s).value for s in tradeable)
        with self.lock:
            if if_missing and user_id.int in self.account_table:
                return False
            self.account_table[user_id.int] = _Account(
                status=AccountStatus(user_id=user_id, active=active),
                tradeable=allowed,
                cash=parse_decimal(cash, field="cash"),
                reserved=_ZERO,
            )
            for symbol, quantity in (positions or {}).items():
                key = (user_id.int, Symbol.parse(symbol).value)
                self.quantities[key] = parse_decimal(quantity, field="quantity")
        return True

    def has_account(self, user_id: UUID) -> bool:
        return user_id.int in self.account_table

    def set_active(self, user_id: UUID, active: bool) -> None:
        with self.lock:
            self.account_table[user_id.int].status = AccountStatus(user_id=user_id, active=active)

    def users(self) -> list[UUID]:
        with self.lock:
            return [account.status.user_id for account in self.account_table.values()]

    def holdings(self, user_id: UUID) -> dict[Symbol, Decimal]:
        """Every non-zero position of the user."""
        with self.lock:
            return {
                Symbol(symbol): quantity
                for (owner, symbol), quantity in self.quantities.items()
                if owner == user_id.int and quantity
            }

    def apply_execution(self, event: OrderExecuted) -> None:
        """Update the position for an executed order, once per order (the
        position keeper's side of the position updates); a SELL's hold is
        consumed at the same moment."""
        with self.lock:
            order = event.order_id.int
            if order in self.applied_executions:
                return
            self.applied_executions[order] = None
            key = (event.user_id.int, str(event.symbol))
            change = event.quantity if event.order_side is OrderSide.BUY else -event.quantity
            self.quantities[key] = self.quantities.get(key, _ZERO) + change
            self.drop_quantity_hold(order)

    def account(self, user_id: UUID) -> _Account:
        """The user's account; unknown users hold nothing, so anything that needs
        money fails for them the same way. Call with the lock held."""
        account = self.account_table.get(user_id.int)
        if account is None:
            account = self.account_table[user_id.int] = _Account(
                status=AccountStatus(user_id=user_id, active=False),
                tradeable=frozenset(),
                cash=_ZERO,
                reserved=_ZERO,
            )
        return account

    def drop_quantity_hold(self, order: int) -> None:
        """Release an order's position hold, if any. Call with the lock held."""
        hold = self.quantity_holds.pop(order, None)
        if hold is not None:
            user, symbol, quantity = hold
            self.held_quantities[(user, symbol)] -= quantity


class InMemoryAccounts:
    """:class:`~order_core.ports.Accounts` over an :class:`InMemoryLedger`."""

    def __init__(self, ledger: InMemoryLedger) -> None:
        self._ledger = ledger

    def get_account(self, user_id: UUID) -> AccountStatus | None:
        account = self._ledger.account_table.get(user_id.int)
        return None if account is None else account.status

    def can_trade(self, user_id: UUID, symbol: Symbol) -> bool:
        account = self._ledger.account_table.get(user_id.int)
        if account is None or not account.status.active:
            return False
        # A Symbol is a str: it finds plain-text keys without conversion.
        return account.tradeable is None or symbol in account.tradeable


class InMemoryBalances:
    """:class:`~order_core.ports.Balances` over an :class:`InMemoryLedger`."""

    def __init__(self, ledger: InMemoryLedger) -> None:
        self._ledger = ledger

    def get_balance(self, user_id: UUID) -> Balance:
        ledger = self._ledger
        with ledger.lock:
            account = ledger.account_table.get(user_id.int)
            if account is None:
                return Balance(user_id, _ZERO, _ZERO)
            return Balance(user_id, account.cash, account.reserved)

    def reserve(self, user_id: UUID, amount: Decimal, order_id: UUID) -> None:
        ledger, key = self._ledger, order_id.int
        with ledger.lock:
            reserved, settled, is_settled, is_reversed = ledger.cash_entries.get(key, _NO_CASH)
            if reserved or is_settled or is_reversed:
                return
            account = ledger.account(user_id)
            available = account.cash - account.reserved
            if amount > available:
                raise InsufficientBalance(available=available, required=amount)
            account.reserved += amount
            ledger.cash_entries[key] = (amount, settled, False, False)

    def release(self, user_id: UUID, order_id: UUID) -> None:
        ledger, key = self._ledger, order_id.int
        with ledger.lock:
            reserved, settled, is_settled, is_reversed = ledger.cash_entries.get(key, _NO_CASH)
            if reserved:
                ledger.account(user_id).reserved -= reserved
                ledger.cash_entries[key] = (_ZERO, settled, is_settled, is_reversed)

    def deduct(self, user_id: UUID, amount: Decimal, order_id: UUID) -> None:
        ledger, key = self._ledger, order_id.int
        with ledger.lock:
            reserved, _, is_settled, is_reversed = ledger.cash_entries.get(key, _NO_CASH)
            if is_settled or is_reversed:
                return
            account = ledger.account(user_id)
            available = account.cash - account.reserved + reserved
            if amount > available:
                raise InsufficientBalance(available=available, required=amount)
            account.reserved -= reserved
            account.cash -= amount
            ledger.cash_entries[key] = (_ZERO, -amount, True, False)

    def credit(self, user_id: UUID, amount: Decimal, order_id: UUID) -> None:
        ledger, key = self._ledger, order_id.int
        with ledger.lock:
            reserved, _, is_settled, is_reversed = ledger.cash_entries.get(key, _NO_CASH)
            if is_settled or is_reversed:
                return
            ledger.account(user_id).cash += amount
            ledger.cash_entries[key] = (reserved, amount, True, False)

    def reverse(self, user_id: UUID, order_id: UUID) -> None:
        ledger, key = self._ledger, order_id.int
        with ledger.lock:
            reserved, settled, _, is_reversed = ledger.cash_entries.get(key, _NO_CASH)
            if is_reversed:
                return
            account = ledger.account(user_id)
            account.reserved -= reserved
            account.cash -= settled
            ledger.cash_entries[key] = (_ZERO, _ZERO, False, True)


class InMemoryPositions:
    """:class:`~order_core.ports.Positions` over an :class:`InMemoryLedger`."""

    def __init__(self, ledger: InMemoryLedger) -> None:
        self._ledger = ledger

    def get_position(self, user_id: UUID, symbol: Symbol) -> Position:
        ledger = self._ledger
        key = (user_id.int, symbol)  # looks up the plain-text key: a Symbol is a str
        return Position(
            user_id,
            symbol,
            ledger.quantities.get(key, _ZERO),
            ledger.held_quantities.get(key, _ZERO),
        )

    def reserve(self, user_id: UUID, symbol: Symbol, quantity: Decimal, order_id: UUID) -> None:
        ledger, order = self._ledger, order_id.int
        key = (user_id.int, str(symbol))  # stored: plain text, not the Symbol object
        with ledger.lock:
            if order in ledger.quantity_holds or order in ledger.applied_executions:
                return
            held = ledger.held_quantities.get(key, _ZERO)
            available = ledger.quantities.get(key, _ZERO) - held
            if quantity > available:
                raise InsufficientPosition(available=max(available, _ZERO), required=quantity)
            ledger.held_quantities[key] = held + quantity
            ledger.quantity_holds[order] = (key[0], key[1], quantity)

    def release(self, user_id: UUID, order_id: UUID) -> None:  # noqa: ARG002  # the port's signature; holds are keyed by order
        ledger = self._ledger
        with ledger.lock:
            ledger.drop_quantity_hold(order_id.int)


if TYPE_CHECKING:
    from order_core.ports import Accounts, Balances, Positions

    def _implements(ledger: InMemoryLedger) -> tuple[Accounts, Balances, Positions]:
        return ledger.accounts, ledger.balances, ledger.positions
