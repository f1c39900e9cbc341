"""Simulated accounts, cash and positions in the service's database.

The same semantics as :class:`~order_adapters.simulated.InMemoryLedger` (the
ledger contract suite holds them together). Money moves inside the order's own
transaction: :meth:`SqlLedger.within` gives the :class:`~order_core.ports.Ledger`
of one unit of work, reading and writing on that unit's connection (attach it
with ``SqlDatabase.attach_ledger(ledger.within)``). Which order holds what is on
the orders themselves; these tables keep only the totals, guarded so that cash
never goes below what is held.

The rest (:class:`SqlLedger`'s own methods, ``accounts``, ``balances``,
``positions``) are the controls and the read ports, each call its own
transaction on the simulator's pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa

from order_adapters.simulated.store import SimStore
from order_adapters.simulated.tables import sim_accounts, sim_positions
from order_adapters.sql import Dialect, Session, SqlDatabase, dialect_insert
from order_core.decimals import parse_decimal
from order_core.errors import ConcurrencyConflict, InsufficientBalance, OrderError
from order_core.records import AccountBook, AccountStatus, Balance, Position
from order_core.values import Symbol

__all__ = ["SqlLedger"]

_ZERO = Decimal(0)
_a, _p = sim_accounts.c, sim_positions.c


def _b(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name)


class _Sql:
    """The ledger's statements, compiled for the database's dialect."""

    def __init__(self, store: SimStore) -> None:
        c, d = store.compile, store.dialect
        account_values = {
            "user_id": _b("u"),
            "active": _b("active"),
            "cash": _b("cash"),
            "reserved": _b("zero"),
            "opening_cash": _b("cash"),
            "opened_at": _b("at"),
        }
        insert_account = dialect_insert(d, sim_accounts).values(account_values)
        self.account = c(sa.select(_a.active, _a.cash, _a.reserved).where(_a.user_id == _b("u")))
        self.upsert_account = c(
            insert_account.on_conflict_do_update(
                index_elements=[_a.user_id],
                set_={k: v for k, v in account_values.items() if k != "user_id"},
            )
        )
        self.insert_account = c(insert_account.on_conflict_do_nothing(index_elements=[_a.user_id]))
        self.set_active = c(
            sim_accounts.update().where(_a.user_id == _b("u")).values(active=_b("active"))
        )
        self.upsert_position = c(
            dialect_insert(d, sim_positions)
            .values(
                user_id=_b("u"),
                symbol=_b("s"),
                quantity=_b("quantity"),
                opening_quantity=_b("quantity"),
            )
            .on_conflict_do_update(
                index_elements=[_p.user_id, _p.symbol],
                set_={"quantity": _b("quantity"), "opening_quantity": _b("quantity")},
            )
        )
        self.position = c(sa.select(_p.quantity).where(_p.user_id == _b("u"), _p.symbol == _b("s")))
        self.holdings = c(
            sa.select(_p.symbol, _p.quantity).where(_p.user_id == _b("u"), _p.quantity != 0)
        )
        self.users = c(sa.select(_a.user_id))
        self.books = c(
            sa.select(_a.user_id, _a.opened_at, _a.opening_cash, _a.cash, _a.reserved).order_by(
                _a.user_id
            )
        )
        self.book_positions = c(
            sa.select(_p.user_id, _p.symbol, _p.opening_quantity, _p.quantity).order_by(
                _p.user_id, _p.symbol
            )
        )
        # -- in a unit of work: guarded so that cash never goes below what is held
        self.hold = c(
            sim_accounts.update()
            .where(_a.user_id == _b("u"), _a.cash - _a.reserved >= _b("amount"))
            .values(reserved=_a.reserved + _b("amount"))
        )
        # A hold checked against the account read under the user's lock: the
        # table's check is the only guard left (it fails loudly, never silently).
        self.hold_checked_already = c(
            sim_accounts.update()
            .where(_a.user_id == _b("u"))
            .values(reserved=_a.reserved + _b("amount"))
        )
        self.account_and_positions = c(
            sa.union_all(
                sa.select(sa.cast(sa.null(), sa.String(20)), _a.cash, _a.reserved).where(
                    _a.user_id == _b("u")
                ),
                sa.select(_p.symbol, _p.quantity, _p.quantity).where(_p.user_id == _b("u")),
            )
        )
        # A hold to let go of must be there: one already consumed (by the
        # winner of a race on the order) changes no row rather than break the
        # table's check, so the loser learns it lost.
        self.release = c(
            sim_accounts.update()
            .where(_a.user_id == _b("u"), _a.reserved >= _b("amount"))
            .values(reserved=_a.reserved - _b("amount"))
        )
        self.settle = c(
            sim_accounts.update()
            .where(
                _a.user_id == _b("u"),
                _a.reserved >= _b("held"),
                _a.cash + _b("paid") - (_a.reserved - _b("held")) >= _b("zero"),
            )
            .values(cash=_a.cash + _b("paid"), reserved=_a.reserved - _b("held"))
        )
        self.move_position = c(
            dialect_insert(d, sim_positions)
            .values(
                user_id=_b("u"), symbol=_b("s"), quantity=_b("change"), opening_quantity=_b("zero")
            )
            .on_conflict_do_update(
                index_elements=[_p.user_id, _p.symbol],
                set_={"quantity": _p.quantity + _b("change")},
            )
        )


class SqlLedger:
    """Accounts, balances and positions of simulated users: ``within`` is the
    ledger of a unit of work; ``accounts``, ``balances`` and ``positions`` are
    the read ports; the rest are the controls
    (:class:`~order_adapters.simulated.controls.LedgerControls`)."""

    def __init__(self, database: SqlDatabase) -> None:
        self.store = SimStore(database)
        self.sql = _Sql(self.store)
        self.accounts = _Accounts(self)
        self.balances = _Balances(self)
        self.positions = _Positions(self)

    def within(self, session: Session) -> _UnitLedger:
        """The :class:`~order_core.ports.Ledger` of the unit of work ``session``
        belongs to (a :data:`~order_adapters.sql.LedgerFactory`)."""
        if session.dialect.name != self.store.dialect.name:
            raise ValueError(
                f"the ledger's tables are in {self.store.dialect.name}, "
                f"the unit of work is on {session.dialect.name}"
            )
        self.store.ready()
        return _UnitLedger(self.sql, session)

    # -- conversions ------------------------------------------------------------------

    def money(self, value: Decimal) -> Any:
        return self.store.dialect.money(value)

    def money_from(self, raw: Any) -> Decimal:
        value = self.store.dialect.money_from(raw)
        return _ZERO if value is None else value

    def uuid(self, value: UUID) -> Any:
        return self.store.dialect.uuid(value)

    # -- the controls ------------------------------------------------------------------

    def open_account(
        self,
        user_id: UUID,
        *,
        cash: Decimal | str | int = 0,
        positions: Mapping[Symbol | str, Decimal | str | int] | None = None,
        active: bool = True,
        if_missing: bool = False,
    ) -> bool:
        """Create (or reset) an account with its cash and holdings, which are
        also what it is opened with. With ``if_missing`` an existing account is
        left as it is, even one another process is creating at the same moment.
        Whether it was written."""
        sql, u, d = self.sql, self.uuid(user_id), self.store.dialect
        with self.store.transaction() as run:
            written = run(
                sql.insert_account if if_missing else sql.upsert_account,
                {
                    "u": u,
                    "active": active,
                    "cash": self.money(parse_decimal(cash, field="cash")),
                    "zero": self.money(_ZERO),
                    "at": d.time(datetime.now(UTC)),
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

    def books(self) -> list[AccountBook]:
        """Every account as opened and as it is now (for the audit)."""
        d, money = self.store.dialect, self.money_from
        positions: dict[Any, dict[Symbol, tuple[Decimal, Decimal]]] = {}
        for user, symbol, opening, quantity in self.store.read(self.sql.book_positions, {}):
            positions.setdefault(user, {})[Symbol(symbol)] = (money(opening), money(quantity))
        books = []
        for user, opened_at, opening_cash, cash, reserved in self.store.read(self.sql.books, {}):
            user_id, opened = d.uuid_from(user), d.time_from(opened_at)
            assert user_id is not None  # NOT NULL columns
            assert opened is not None
            books.append(
                AccountBook(
                    user_id=user_id,
                    opened_at=opened,
                    opening_cash=money(opening_cash),
                    cash=money(cash),
                    reserved=money(reserved),
                    positions=positions.get(user, {}),
                )
            )
        return books


class _Known:
    """One account as a transaction holding the user's lock knows it: as read
    (once, with every position), plus the transaction's own movements since."""

    __slots__ = ("cash", "exists", "positions", "reserved")

    def __init__(self, rows: list[Any], d: Dialect) -> None:
        self.exists = False
        self.cash = self.reserved = _ZERO
        self.positions: dict[str, Decimal] = {}
        for symbol, first, second in rows:
            if symbol is None:  # the account's row
                self.exists = True
                self.cash, self.reserved = (
                    d.money_from(first) or _ZERO,
                    d.money_from(second) or _ZERO,
                )
            else:
                self.positions[symbol] = d.money_from(first) or _ZERO


class _UnitLedger:
    """The :class:`~order_core.ports.Ledger` of one unit of work: reads go
    through its session (they see its transaction, flushing what it has
    buffered), movements are buffered writes sent with the order's own.

    A guarded movement that would take cash below what is held changes no
    row: the flush then raises :class:`InsufficientBalance` and the whole
    transaction is rolled back. Under the user's lock (taken by the unit
    before it reads) the account is read once, with all its positions, and
    kept up to date with the unit's own movements until the transaction ends:
    a hold it can check against that is refused at once, or sent unguarded
    (the table's check stays), saving the round trip a checked write costs."""

    __slots__ = ("_d", "_known", "_known_in", "_session", "_sql")

    def __init__(self, sql: _Sql, session: Session) -> None:
        self._sql = sql
        self._session = session
        self._d: Dialect = session.dialect
        self._known: dict[UUID, _Known] = {}
        self._known_in = session.transactions

    def user_locked(self, user_id: UUID) -> None:
        """The unit locked ``user_id``: read the account along with the lock
        where that saves a round trip (PostgreSQL; the lock is a buffered write)."""
        session = self._session
        if session.dialect.serialises_writers:
            return
        transaction = session.transactions

        def receive(rows: list[Any]) -> None:
            if session.holds_lock(user_id) and session.transactions == transaction:
                self._kept(user_id)  # drops what an earlier transaction knew
                self._known[user_id] = _Known(rows, self._d)

        session.read_along(self._sql.account_and_positions, {"u": self._d.uuid(user_id)}, receive)

    def cash(self, user_id: UUID) -> Balance:
        known = self._read(user_id)
        return Balance(user_id, known.cash, known.reserved)

    def position(self, user_id: UUID, symbol: Symbol) -> Decimal:
        return self._read(user_id).positions.get(str(symbol), _ZERO)

    def hold(self, user_id: UUID, order_id: UUID, amount: Decimal) -> None:  # noqa: ARG002  # the port's signature
        if not amount:
            return
        d = self._d
        values = {"u": d.uuid(user_id), "amount": d.money(amount)}
        known = self._kept(user_id)
        if known is not None:
            available = known.cash - known.reserved
            if amount > available:
                raise InsufficientBalance(available=max(available, _ZERO), required=amount)
            known.reserved += amount
            self._session.write(self._sql.hold_checked_already, values)
            return

        def refused() -> OrderError:
            available = self.cash(user_id).available  # as committed: this one rolled back
            return InsufficientBalance(available=max(available, _ZERO), required=amount)

        self._session.write(self._sql.hold, values, refused)

    def release(self, user_id: UUID, order_id: UUID, amount: Decimal) -> None:  # noqa: ARG002  # the port's signature
        if not amount:
            return
        d = self._d
        known = self._kept(user_id)
        if known is not None:
            known.reserved -= amount
        # Unchecked: a race to end the order is decided by the order's own
        # versioned write in this transaction. A hold that is not there (an
        # account that does not exist, books already off) must not keep the
        # order live forever; the audit reports such books.
        self._session.write(self._sql.release, {"u": d.uuid(user_id), "amount": d.money(amount)})

    def settle(self, user_id: UUID, order_id: UUID, *, paid: Decimal, held: Decimal) -> None:
        if not paid and not held:
            return
        d = self._d
        known = self._kept(user_id)
        if known is not None:
            known.cash += paid
            known.reserved -= held

        def refused() -> OrderError:
            if not self._read(user_id).exists:  # nothing to settle against, ever
                return InsufficientBalance(available=_ZERO, required=-paid)
            balance = self.cash(user_id)  # as committed, as above
            if balance.reserved < held:
                return ConcurrencyConflict(order_id, 0)  # its hold is gone: a cancel ended it
            available = balance.available + held
            return InsufficientBalance(available=max(available, _ZERO), required=-paid)

        self._session.write(
            self._sql.settle,
            {
                "u": d.uuid(user_id),
                "paid": d.money(paid),
                "held": d.money(held),
                "zero": d.money(_ZERO),
            },
            refused,
        )

    def move_position(self, user_id: UUID, symbol: Symbol, change: Decimal) -> None:
        if not change:
            return
        d = self._d
        known = self._kept(user_id)
        if known is not None:
            key = str(symbol)
            known.positions[key] = known.positions.get(key, _ZERO) + change
        self._session.write(
            self._sql.move_position,
            {
                "u": d.uuid(user_id),
                "s": str(symbol),
                "change": d.money(change),
                "zero": d.money(_ZERO),
            },
        )

    def _kept(self, user_id: UUID) -> _Known | None:
        """The account as this transaction knows it under the user's lock, if read."""
        if self._known_in != self._session.transactions:
            self._known = {}  # another transaction: known no more
            self._known_in = self._session.transactions
        return self._known.get(user_id)

    def _read(self, user_id: UUID) -> _Known:
        known = self._kept(user_id)
        if known is not None:
            return known
        session = self._session
        rows = session.fetch_all(self._sql.account_and_positions, {"u": self._d.uuid(user_id)})
        known = _Known(rows, self._d)
        if session.holds_lock(user_id) and self._known_in == session.transactions:
            self._known[user_id] = known  # nobody else moves it until the transaction ends
        return known


class _Accounts:
    def __init__(self, ledger: SqlLedger) -> None:
        self._ledger = ledger

    def get_account(self, user_id: UUID) -> AccountStatus | None:
        rows = self._ledger.store.read(self._ledger.sql.account, {"u": self._ledger.uuid(user_id)})
        return None if not rows else AccountStatus(user_id=user_id, active=bool(rows[0][0]))

    def can_trade(self, user_id: UUID, symbol: Symbol) -> bool:  # noqa: ARG002  # every symbol
        account = self.get_account(user_id)
        return account is not None and account.active

    def trading_status(self, user_id: UUID, symbol: Symbol) -> tuple[AccountStatus | None, bool]:  # noqa: ARG002
        account = self.get_account(user_id)  # an active account trades every symbol
        return account, account is not None and account.active


class _Balances:
    def __init__(self, ledger: SqlLedger) -> None:
        self._ledger = ledger

    def get_balance(self, user_id: UUID) -> Balance:
        ledger = self._ledger
        rows = ledger.store.read(ledger.sql.account, {"u": ledger.uuid(user_id)})
        if not rows:
            return Balance(user_id, _ZERO, _ZERO)
        return Balance(user_id, ledger.money_from(rows[0][1]), ledger.money_from(rows[0][2]))


class _Positions:
    def __init__(self, ledger: SqlLedger) -> None:
        self._ledger = ledger

    def get_position(self, user_id: UUID, symbol: Symbol) -> Position:
        ledger = self._ledger
        rows = ledger.store.read(ledger.sql.position, {"u": ledger.uuid(user_id), "s": str(symbol)})
        return Position(user_id, symbol, ledger.money_from(rows[0][0]) if rows else _ZERO)


if TYPE_CHECKING:
    from order_adapters.simulated.controls import LedgerControls
    from order_adapters.sql import LedgerFactory
    from order_core.ports import Accounts, Balances, Ledger, Positions

    def _implements(
        ledger: SqlLedger, session: Session
    ) -> tuple[Accounts, Balances, Positions, Ledger, LedgerControls, LedgerFactory]:
        return (
            ledger.accounts,
            ledger.balances,
            ledger.positions,
            ledger.within(session),
            ledger,
            ledger.within,
        )
