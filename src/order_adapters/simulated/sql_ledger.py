"""Simulated accounts, cash and positions in the service's database.

The same semantics as :class:`~order_adapters.simulated.InMemoryLedger` (the
ledger contract suite holds them together): every movement is keyed by its
order and happens at most once, a reversal undoes a settlement, a SELL holds
its quantity until its execution is applied. Each operation is one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa

from order_adapters.simulated.store import Run, SimStore
from order_adapters.simulated.tables import (
    sim_accounts,
    sim_applied_executions,
    sim_cash_entries,
    sim_position_holds,
    sim_positions,
)
from order_adapters.sql import SqlDatabase, dialect_insert
from order_core.decimals import parse_decimal
from order_core.errors import InsufficientBalance, InsufficientPosition
from order_core.events import OrderExecuted
from order_core.records import AccountStatus, Balance, Position
from order_core.values import OrderSide, Symbol

__all__ = ["SqlLedger"]

_ZERO = Decimal(0)
_a, _e, _p, _h = sim_accounts.c, sim_cash_entries.c, sim_positions.c, sim_position_holds.c


def _b(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name)


class _Sql:
    """The ledger's statements, compiled for the database's dialect."""

    def __init__(self, store: SimStore) -> None:
        c, lock = store.compile, store.locking
        d = store.dialect
        self.account = c(sa.select(_a.active, _a.cash, _a.reserved).where(_a.user_id == _b("u")))
        self.account_locked = c(
            lock(sa.select(_a.active, _a.cash, _a.reserved).where(_a.user_id == _b("u")))
        )
        self.upsert_account = c(
            dialect_insert(d, sim_accounts)
            .values(user_id=_b("u"), active=_b("active"), cash=_b("cash"), reserved=_b("reserved"))
            .on_conflict_do_update(
                index_elements=[_a.user_id],
                set_={"active": _b("active"), "cash": _b("cash"), "reserved": _b("reserved")},
            )
        )
        self.insert_account = c(
            dialect_insert(d, sim_accounts)
            .values(user_id=_b("u"), active=_b("active"), cash=_b("cash"), reserved=_b("reserved"))
            .on_conflict_do_nothing(index_elements=[_a.user_id])
        )
        self.set_active = c(
            sim_accounts.update().where(_a.user_id == _b("u")).values(active=_b("active"))
        )
        self.move_cash = c(
            sim_accounts.update()
            .where(_a.user_id == _b("u"))
            .values(cash=_a.cash + _b("cash_change"), reserved=_a.reserved + _b("held_change"))
        )
        entry = sa.select(_e.reserved, _e.settled, _e.is_settled, _e.is_reversed)
        self.entry_locked = c(lock(entry.where(_e.order_id == _b("o"))))
        self.upsert_entry = c(
            dialect_insert(d, sim_cash_entries)
            .values(
                order_id=_b("o"),
                user_id=_b("u"),
                reserved=_b("reserved"),
                settled=_b("settled"),
                is_settled=_b("is_settled"),
                is_reversed=_b("is_reversed"),
            )
            .on_conflict_do_update(
                index_elements=[_e.order_id],
                set_={
                    "reserved": _b("reserved"),
                    "settled": _b("settled"),
                    "is_settled": _b("is_settled"),
                    "is_reversed": _b("is_reversed"),
                },
            )
        )
        position = sa.select(_p.quantity, _p.reserved).where(
            _p.user_id == _b("u"), _p.symbol == _b("s")
        )
        self.position = c(position)
        self.position_locked = c(lock(position))
        self.upsert_position = c(
            dialect_insert(d, sim_positions)
            .values(
                user_id=_b("u"), symbol=_b("s"), quantity=_b("quantity"), reserved=_b("reserved")
            )
            .on_conflict_do_update(
                index_elements=[_p.user_id, _p.symbol],
                set_={"quantity": _b("quantity"), "reserved": _b("reserved")},
            )
        )
        self.move_position = c(
            dialect_insert(d, sim_positions)
            .values(user_id=_b("u"), symbol=_b("s"), quantity=_b("change"), reserved=_b("held"))
            .on_conflict_do_update(
                index_elements=[_p.user_id, _p.symbol],
                set_={
                    "quantity": _p.quantity + _b("change"),
                    "reserved": _p.reserved + _b("held"),
                },
            )
        )
        self.hold = c(
            lock(sa.select(_h.user_id, _h.symbol, _h.quantity).where(_h.order_id == _b("o")))
        )
        self.insert_hold = c(
            sim_position_holds.insert().values(
                order_id=_b("o"), user_id=_b("u"), symbol=_b("s"), quantity=_b("quantity")
            )
        )
        self.delete_hold = c(sim_position_holds.delete().where(_h.order_id == _b("o")))
        self.applied = c(
            sa.select(sim_applied_executions.c.order_id).where(
                sim_applied_executions.c.order_id == _b("o")
            )
        )
        self.mark_applied = c(sim_applied_executions.insert().values(order_id=_b("o")))
        self.holdings = c(
            sa.select(_p.symbol, _p.quantity).where(_p.user_id == _b("u"), _p.quantity != 0)
        )
        self.users = c(sa.select(_a.user_id))


class SqlLedger:
    """Accounts, balances and positions of simulated users; ``accounts``,
    ``balances`` and ``positions`` are the three ports."""

    def __init__(self, database: SqlDatabase) -> None:
        self.store = SimStore(database)
        self.sql = _Sql(self.store)
        self.accounts = _Accounts(self)
        self.balances = _Balances(self)
        self.positions = _Positions(self)

    # -- conversions ------------------------------------------------------------------

    def money(self, value: Decimal) -> Any:
        return self.store.dialect.money(value)

    def money_from(self, raw: Any) -> Decimal:
        value = self.store.dialect.money_from(raw)
        return _ZERO if value is None else value

    def uuid(self, value: UUID) -> Any:
        return self.store.dialect.uuid(value)

    # -- setting up ------------------------------------------------------------------

    def open_account(
        self,
        user_id: UUID,
        *,
        cash: Decimal | str | int = 0,
        positions: Mapping[Symbol | str, Decimal | str | int] | None = None,
        active: bool = True,
        if_missing: bool = False,
    ) -> bool:
        """Create (or reset) an account with its cash and holdings. With
        ``if_missing`` an existing account is left as it is, even one another
        process is creating at the same moment. Whether it was written."""
        sql, u = self.sql, self.uuid(user_id)
        with self.store.transaction() as run:
            written = run(
                sql.insert_account if if_missing else sql.upsert_account,
                {
                    "u": u,
                    "active": active,
                    "cash": self.money(parse_decimal(cash, field="cash")),
                    "reserved": self.money(_ZERO),
                },
            ).rowcount
            if written != 1:
                return False
            for symbol, quantity in (positions or {}).items():
                run(
                    sql.upsert_position,
                    {
                        "u": u,
                        "s": Symbol.parse(symbol).value,
                        "quantity": self.money(parse_decimal(quantity, field="quantity")),
                        "reserved": self.money(_ZERO),
                    },
                )
        return True

    def has_account(self, user_id: UUID) -> bool:
        return bool(self.store.read(self.sql.account, {"u": self.uuid(user_id)}))

    def set_active(self, user_id: UUID, active: bool) -> None:
        with self.store.transaction() as run:
            run(self.sql.set_active, {"u": self.uuid(user_id), "active": active})

    def users(self) -> list[UUID]:
        uuid_from = self.store.dialect.uuid_from
        return [user for row in self.store.read(self.sql.users, {}) if (user := uuid_from(row[0]))]

    def holdings(self, user_id: UUID) -> dict[Symbol, Decimal]:
        rows = self.store.read(self.sql.holdings, {"u": self.uuid(user_id)})
        return {Symbol(row[0]): self.money_from(row[1]) for row in rows}

    def apply_execution(self, event: OrderExecuted) -> None:
        """Update the position for an executed order, once per order, consuming
        a SELL's hold (what the position keeper does with a position update)."""
        sql, o = self.sql, self.uuid(event.order_id)
        change = event.quantity if event.order_side is OrderSide.BUY else -event.quantity
        with self.store.transaction() as run:
            if run(sql.applied, {"o": o}).fetchone() is not None:
                return
            run(sql.mark_applied, {"o": o})
            hold = run(sql.hold, {"o": o}).fetchone()
            held = self.money_from(hold[2]) if hold is not None else _ZERO
            if hold is not None:
                run(sql.delete_hold, {"o": o})
            run(
                sql.move_position,
                {
                    "u": self.uuid(event.user_id),
                    "s": event.symbol.value,
                    "change": self.money(change),
                    "held": self.money(-held),
                },
            )

    # -- shared steps ----------------------------------------------------------------

    def entry(self, run: Run, order: Any) -> tuple[Decimal, Decimal, bool, bool] | None:
        row = run(self.sql.entry_locked, {"o": order}).fetchone()
        if row is None:
            return None
        return self.money_from(row[0]), self.money_from(row[1]), bool(row[2]), bool(row[3])

    def write_entry(
        self,
        run: Run,
        order: Any,
        user: Any,
        entry: tuple[Decimal, Decimal, bool, bool],
    ) -> None:
        """Store the order's (hold, settlement, settled?, reversed?)."""
        reserved, settled, is_settled, is_reversed = entry
        run(
            self.sql.upsert_entry,
            {
                "o": order,
                "u": user,
                "reserved": self.money(reserved),
                "settled": self.money(settled),
                "is_settled": is_settled,
                "is_reversed": is_reversed,
            },
        )

    def move_cash(self, run: Run, user: Any, cash: Decimal, held: Decimal) -> None:
        run(
            self.sql.move_cash,
            {"u": user, "cash_change": self.money(cash), "held_change": self.money(held)},
        )

    def available_cash(self, run: Run, user: Any) -> Decimal:
        row = run(self.sql.account_locked, {"u": user}).fetchone()
        return _ZERO if row is None else self.money_from(row[1]) - self.money_from(row[2])


class _Accounts:
    def __init__(self, ledger: SqlLedger) -> None:
        self._ledger = ledger

    def get_account(self, user_id: UUID) -> AccountStatus | None:
        rows = self._ledger.store.read(self._ledger.sql.account, {"u": self._ledger.uuid(user_id)})
        return None if not rows else AccountStatus(user_id=user_id, active=bool(rows[0][0]))

    def can_trade(self, user_id: UUID, symbol: Symbol) -> bool:  # noqa: ARG002  # every symbol
        account = self.get_account(user_id)
        return account is not None and account.active


class _Balances:
    def __init__(self, ledger: SqlLedger) -> None:
        self._ledger = ledger

    def get_balance(self, user_id: UUID) -> Balance:
        ledger = self._ledger
        rows = ledger.store.read(ledger.sql.account, {"u": ledger.uuid(user_id)})
        if not rows:
            return Balance(user_id, _ZERO, _ZERO)
        return Balance(user_id, ledger.money_from(rows[0][1]), ledger.money_from(rows[0][2]))

    def reserve(self, user_id: UUID, amount: Decimal, order_id: UUID) -> None:
        ledger = self._ledger
        u, o = ledger.uuid(user_id), ledger.uuid(order_id)
        with ledger.store.transaction() as run:
            entry = ledger.entry(run, o)
            if entry is not None and (entry[0] or entry[2] or entry[3]):
                return
            available = ledger.available_cash(run, u)
            if amount > available:
                raise InsufficientBalance(available=available, required=amount)
            ledger.move_cash(run, u, _ZERO, amount)
            settled = entry[1] if entry is not None else _ZERO
            ledger.write_entry(run, o, u, (amount, settled, False, False))

    def release(self, user_id: UUID, order_id: UUID) -> None:
        ledger = self._ledger
        u, o = ledger.uuid(user_id), ledger.uuid(order_id)
        with ledger.store.transaction() as run:
            entry = ledger.entry(run, o)
            if entry is None or not entry[0]:
                return
            ledger.move_cash(run, u, _ZERO, -entry[0])
            ledger.write_entry(run, o, u, (_ZERO, entry[1], entry[2], entry[3]))

    def deduct(self, user_id: UUID, amount: Decimal, order_id: UUID) -> None:
        ledger = self._ledger
        u, o = ledger.uuid(user_id), ledger.uuid(order_id)
        with ledger.store.transaction() as run:
            entry = ledger.entry(run, o) or (_ZERO, _ZERO, False, False)
            held, _, is_settled, is_reversed = entry
            if is_settled or is_reversed:
                return
            available = ledger.available_cash(run, u) + held
            if amount > available:
                raise InsufficientBalance(available=available, required=amount)
            ledger.move_cash(run, u, -amount, -held)
            ledger.write_entry(run, o, u, (_ZERO, -amount, True, False))

    def credit(self, user_id: UUID, amount: Decimal, order_id: UUID) -> None:
        ledger = self._ledger
        u, o = ledger.uuid(user_id), ledger.uuid(order_id)
        with ledger.store.transaction() as run:
            entry = ledger.entry(run, o) or (_ZERO, _ZERO, False, False)
            held, _, is_settled, is_reversed = entry
            if is_settled or is_reversed:
                return
            ledger.move_cash(run, u, amount, _ZERO)
            ledger.write_entry(run, o, u, (held, amount, True, False))

    def reverse(self, user_id: UUID, order_id: UUID) -> None:
        ledger = self._ledger
        u, o = ledger.uuid(user_id), ledger.uuid(order_id)
        with ledger.store.transaction() as run:
            entry = ledger.entry(run, o) or (_ZERO, _ZERO, False, False)
            held, settled, _, is_reversed = entry
            if is_reversed:
                return
            if held or settled:
                ledger.move_cash(run, u, -settled, -held)
            ledger.write_entry(run, o, u, (_ZERO, _ZERO, False, True))


class _Positions:
    def __init__(self, ledger: SqlLedger) -> None:
        self._ledger = ledger

    def get_position(self, user_id: UUID, symbol: Symbol) -> Position:
        ledger = self._ledger
        rows = ledger.store.read(
            ledger.sql.position, {"u": ledger.uuid(user_id), "s": symbol.value}
        )
        if not rows:
            return Position(user_id, symbol, _ZERO, _ZERO)
        return Position(
            user_id, symbol, ledger.money_from(rows[0][0]), ledger.money_from(rows[0][1])
        )

    def reserve(self, user_id: UUID, symbol: Symbol, quantity: Decimal, order_id: UUID) -> None:
        ledger, sql = self._ledger, self._ledger.sql
        u, o, s = ledger.uuid(user_id), ledger.uuid(order_id), symbol.value
        with ledger.store.transaction() as run:
            if run(sql.hold, {"o": o}).fetchone() is not None:
                return
            if run(sql.applied, {"o": o}).fetchone() is not None:
                return
            row = run(sql.position_locked, {"u": u, "s": s}).fetchone()
            held = ledger.money_from(row[0]) if row else _ZERO
            reserved = ledger.money_from(row[1]) if row else _ZERO
            available = held - reserved
            if quantity > available:
                raise InsufficientPosition(available=max(available, _ZERO), required=quantity)
            run(
                sql.move_position,
                {"u": u, "s": s, "change": ledger.money(_ZERO), "held": ledger.money(quantity)},
            )
            run(sql.insert_hold, {"o": o, "u": u, "s": s, "quantity": ledger.money(quantity)})

    def release(self, user_id: UUID, order_id: UUID) -> None:  # noqa: ARG002  # the port's signature
        ledger, sql = self._ledger, self._ledger.sql
        o = ledger.uuid(order_id)
        with ledger.store.transaction() as run:
            hold = run(sql.hold, {"o": o}).fetchone()
            if hold is None:
                return
            run(sql.delete_hold, {"o": o})
            run(
                sql.move_position,
                {
                    "u": hold[0],
                    "s": hold[1],
                    "change": ledger.money(_ZERO),
                    "held": ledger.money(-ledger.money_from(hold[2])),
                },
            )


if TYPE_CHECKING:
    from order_core.ports import Accounts, Balances, Positions

    def _implements(ledger: SqlLedger) -> tuple[Accounts, Balances, Positions]:
        return ledger.accounts, ledger.balances, ledger.positions
