"""Simulated accounts, cash and positions held in memory.

:class:`InMemoryLedger` owns the state. Its ``accounts``, ``balances`` and
``positions`` attributes are the read ports; money moves only inside a unit of
work of the :class:`~order_adapters.memory.InMemoryDatabase` it is attached
to, through :meth:`InMemoryLedger.within` (the ``Ledger`` port): changes are
checked when made (the unit holds the user's lock, so nothing else moves that
user's money meanwhile) and applied at commit with the orders, under one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from order_core.decimals import add, parse_decimal, subtract
from order_core.errors import InsufficientBalance
from order_core.records import AccountBook, AccountStatus, Balance, Position
from order_core.values import Symbol

__all__ = ["InMemoryAccounts", "InMemoryBalances", "InMemoryLedger", "InMemoryPositions"]

_ZERO = Decimal(0)


@dataclass(slots=True)
class _Account:
    status: AccountStatus
    tradeable: frozenset[str] | None
    opened_at: datetime
    opening_cash: Decimal
    cash: Decimal
    reserved: Decimal


class InMemoryLedger:
    """The simulated account, balance and position services, thread-safe.
    Keys are the UUIDs' ints and the symbols' text (UUID hashing runs in Python)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.account_table: dict[int, _Account] = {}
        self.quantities: dict[tuple[int, str], Decimal] = {}
        self.opening_quantities: dict[tuple[int, str], Decimal] = {}
        self.accounts = InMemoryAccounts(self)
        self.balances = InMemoryBalances(self)
        self.positions = InMemoryPositions(self)

    def attach(self, lock: threading.RLock) -> None:
        """Share the database's lock, so a commit moves orders and money together."""
        self.lock = lock

    def within(self, effects: list[Callable[[], None]]) -> _UnitLedger:
        return _UnitLedger(self, effects)

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
        opening = parse_decimal(cash, field="cash")
        with self.lock:
            if if_missing and user_id.int in self.account_table:
                return False
            self.account_table[user_id.int] = _Account(
                status=AccountStatus(user_id=user_id, active=active),
                tradeable=allowed,
                opened_at=datetime.now(UTC),
                opening_cash=opening,
                cash=opening,
                reserved=_ZERO,
            )
            for symbol, quantity in (positions or {}).items():
                key = (user_id.int, Symbol.parse(symbol).value)
                self.quantities[key] = self.opening_quantities[key] = parse_decimal(
                    quantity, field="quantity"
                )
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

    def account(self, user_id: UUID) -> _Account:
        """The user's account; an unknown user gets an inactive empty one (a
        position keeper may apply an execution for it). Call with the lock held."""
        account = self.account_table.get(user_id.int)
        if account is None:
            account = self.account_table[user_id.int] = _Account(
                status=AccountStatus(user_id=user_id, active=False),
                tradeable=frozenset(),
                opened_at=datetime.now(UTC),
                opening_cash=_ZERO,
                cash=_ZERO,
                reserved=_ZERO,
            )
        return account

    def books(self) -> list[AccountBook]:
        """Every account as opened and as it is now (for the audit)."""
        with self.lock:
            positions: dict[int, dict[Symbol, tuple[Decimal, Decimal]]] = {}
            for (owner, symbol), quantity in self.quantities.items():
                opening = self.opening_quantities.get((owner, symbol), _ZERO)
                positions.setdefault(owner, {})[Symbol(symbol)] = (opening, quantity)
            return [
                AccountBook(
                    user_id=account.status.user_id,
                    opened_at=account.opened_at,
                    opening_cash=account.opening_cash,
                    cash=account.cash,
                    reserved=account.reserved,
                    positions=positions.get(user, {}),
                )
                for user, account in self.account_table.items()
            ]


class _UnitLedger:
    """The ledger one unit of work sees: the committed state plus its own
    changes, which it checks as they are made and hands to the unit as
    effects for the commit."""

    __slots__ = ("_cash", "_effects", "_held", "_ledger", "_quantities")

    def __init__(self, ledger: InMemoryLedger, effects: list[Callable[[], None]]) -> None:
        self._ledger = ledger
        self._effects = effects
        self._cash: dict[int, Decimal] = {}  # this unit's changes, not yet committed
        self._held: dict[int, Decimal] = {}
        self._quantities: dict[tuple[int, str], Decimal] = {}

    def cash(self, user_id: UUID) -> Balance:
        account = self._ledger.account_table.get(user_id.int)
        if account is None:
            return Balance(user_id, _ZERO, _ZERO)
        user = user_id.int
        return Balance(
            user_id,
            add(account.cash, self._cash.get(user, _ZERO)),
            add(account.reserved, self._held.get(user, _ZERO)),
        )

    def position(self, user_id: UUID, symbol: Symbol) -> Decimal:
        key = (user_id.int, str.__str__(symbol))
        return add(self._ledger.quantities.get(key, _ZERO), self._quantities.get(key, _ZERO))

    def hold(self, user_id: UUID, order_id: UUID, amount: Decimal) -> None:  # noqa: ARG002  # the port's signature
        available = self.cash(user_id).available
        if amount > available:
            raise InsufficientBalance(available=max(available, _ZERO), required=amount)
        self._move(user_id, cash=_ZERO, held=amount)

    def release(self, user_id: UUID, order_id: UUID, amount: Decimal) -> None:  # noqa: ARG002
        # As the SQL ledger: a hold that is not there (no account, books
        # already off) is not released; the order's own write decides races.
        if user_id.int not in self._ledger.account_table or self.cash(user_id).reserved < amount:
            return
        self._move(user_id, cash=_ZERO, held=amount.copy_negate())

    def settle(self, user_id: UUID, order_id: UUID, *, paid: Decimal, held: Decimal) -> None:  # noqa: ARG002
        if user_id.int not in self._ledger.account_table:  # nothing to settle against, ever
            raise InsufficientBalance(available=_ZERO, required=paid.copy_negate())
        balance = self.cash(user_id)
        after = subtract(add(balance.cash, paid), subtract(balance.reserved, held))
        if after < 0:
            available = add(balance.available, held)
            raise InsufficientBalance(available=max(available, _ZERO), required=paid.copy_negate())
        self._move(user_id, cash=paid, held=held.copy_negate())

    def move_position(self, user_id: UUID, symbol: Symbol, change: Decimal) -> None:
        key = (user_id.int, str.__str__(symbol))
        self._quantities[key] = add(self._quantities.get(key, _ZERO), change)
        quantities = self._ledger.quantities

        def apply() -> None:
            quantities[key] = add(quantities.get(key, _ZERO), change)

        self._effects.append(apply)

    def _move(self, user_id: UUID, *, cash: Decimal, held: Decimal) -> None:
        user = user_id.int
        self._cash[user] = add(self._cash.get(user, _ZERO), cash)
        self._held[user] = add(self._held.get(user, _ZERO), held)
        ledger = self._ledger

        def apply() -> None:
            account = ledger.account(user_id)
            account.cash = add(account.cash, cash)
            account.reserved = add(account.reserved, held)

        self._effects.append(apply)


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

    def trading_status(self, user_id: UUID, symbol: Symbol) -> tuple[AccountStatus | None, bool]:
        return self.get_account(user_id), self.can_trade(user_id, symbol)


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


class InMemoryPositions:
    """:class:`~order_core.ports.Positions` over an :class:`InMemoryLedger`."""

    def __init__(self, ledger: InMemoryLedger) -> None:
        self._ledger = ledger

    def get_position(self, user_id: UUID, symbol: Symbol) -> Position:
        key = (user_id.int, symbol)  # looks up the plain-text key: a Symbol is a str
        return Position(user_id, symbol, self._ledger.quantities.get(key, _ZERO))


if TYPE_CHECKING:
    from order_adapters.memory.committed import LedgerState
    from order_core.ports import Accounts, Balances, Ledger, Positions

    def _implements(
        ledger: InMemoryLedger, unit: _UnitLedger
    ) -> tuple[Accounts, Balances, Positions, LedgerState, Ledger]:
        return ledger.accounts, ledger.balances, ledger.positions, ledger, unit
