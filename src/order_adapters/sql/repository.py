"""The order repository on the ``orders`` table (docs/contracts.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from order_adapters.sql.mapping import order_from_row, order_params
from order_adapters.sql.session import Session
from order_core.errors import ConcurrencyConflict
from order_core.order import Order
from order_core.records import OrderActivity, OrderPage
from order_core.values import OrderSide, OrderStatus, Symbol

__all__ = ["SqlOrderRepository"]

_ZERO = Decimal(0)


class SqlOrderRepository:
    """A :class:`~order_core.ports.OrderRepository` within one unit of work.
    Writes are buffered until the unit commits; ``get`` sees them at once."""

    __slots__ = ("_expected", "_expecting", "_marked", "_session", "_staged")

    def __init__(self, session: Session) -> None:
        self._session = session
        self._staged: dict[UUID, Order] = {}  # this unit's writes, for get()
        # activity() read ahead along with the lock: its arguments and its row.
        self._expected: dict[tuple[UUID, Symbol, datetime], Sequence[Any]] = {}
        self._expecting: Callable[[list[Any]], None] | None = None  # not sent yet
        self._marked: set[UUID] = set()  # position updates marked applied by this unit

    def add(self, order: Order) -> None:
        order.version = 1
        session = self._session
        session.write(session.sql.insert_order, order_params(order, session.dialect))
        self._staged[order.id] = order.copy()

    def get(self, order_id: UUID) -> Order | None:
        staged = self._staged.get(order_id)
        if staged is not None:
            return staged.copy()
        session = self._session
        row = session.fetch_one(session.sql.order_by_id, {"id": session.dialect.uuid(order_id)})
        return None if row is None else order_from_row(row, session.dialect)

    def update(self, order: Order) -> None:
        session = self._session
        expected = order.version
        order.version = expected + 1
        values = order_params(order, session.dialect)
        values["b_id"] = values["id"]
        values["b_expected_version"] = expected
        session.write(session.sql.update_order, values, ConcurrencyConflict(order.id, expected))
        self._staged[order.id] = order.copy()

    def forget_staged(self) -> None:
        """The unit committed or rolled back: its writes (and what it read
        ahead) are no longer its own."""
        self._staged.clear()
        self._expected.clear()
        self._expecting = None
        self._marked.clear()

    # -- queries -----------------------------------------------------------------

    def list_by_user(self, user_id: UUID, status: OrderStatus | None = None) -> list[Order]:
        s = self._session
        user = s.dialect.uuid(user_id)
        if status is None:
            return self._orders(s.fetch_all(s.sql.orders_by_user, {"user_id": user}))
        return self._orders(
            s.fetch_all(s.sql.orders_by_user_and_status, {"user_id": user, "status": status.value})
        )

    def list_by_status(
        self,
        status: OrderStatus,
        *,
        symbols: Iterable[Symbol] | None = None,
        limit: int | None = None,
    ) -> list[Order]:
        s = self._session
        values: dict[str, object] = {"status": status.value, "limit": _limit(s, limit)}
        if symbols is None:
            return self._orders(s.fetch_all(s.sql.orders_by_status, values))
        values["symbols"] = s.dialect.many([str(symbol) for symbol in symbols])
        return self._orders(s.fetch_all(s.sql.orders_by_status_and_symbols, values))

    def history(
        self, user_id: UUID, *, limit: int, offset: int, status: OrderStatus | None = None
    ) -> OrderPage:
        s = self._session
        values: dict[str, object] = {
            "user_id": s.dialect.uuid(user_id),
            "limit": limit,
            "offset": offset,
        }
        if status is None:
            rows = s.fetch_all(s.sql.history, values)
        else:
            values["status"] = status.value
            rows = s.fetch_all(s.sql.history_with_status, values)
        if (rows and len(rows) < limit) or (offset == 0 and not rows):
            total = offset + len(rows)  # the page reached the end: no count needed
        else:
            total = self._count(user_id, status)
        return OrderPage(orders=self._orders(rows), total_count=total)

    def list_by_symbol(self, symbol: Symbol, status: OrderStatus | None = None) -> list[Order]:
        s = self._session
        if status is None:
            return self._orders(s.fetch_all(s.sql.orders_by_symbol, {"symbol": str(symbol)}))
        return self._orders(
            s.fetch_all(
                s.sql.orders_by_symbol_and_status, {"symbol": str(symbol), "status": status.value}
            )
        )

    def list_by_date_range(self, user_id: UUID, start: datetime, end: datetime) -> list[Order]:
        s = self._session
        d = s.dialect
        values = {"user_id": d.uuid(user_id), "start": d.time(start), "end": d.time(end)}
        return self._orders(s.fetch_all(s.sql.orders_by_date_range, values))

    def count_by_user(self, user_id: UUID, *, since: datetime | None = None) -> int:
        s = self._session
        user = s.dialect.uuid(user_id)
        if since is None:
            row = s.fetch_one(s.sql.count_by_user, {"user_id": user})
        else:
            row = s.fetch_one(
                s.sql.count_by_user_since, {"user_id": user, "since": s.dialect.time(since)}
            )
        return int(row[0])

    def open_quantity(self, user_id: UUID, symbol: Symbol, side: OrderSide) -> Decimal:
        s = self._session
        row = s.fetch_one(
            s.sql.open_quantity,
            {"user_id": s.dialect.uuid(user_id), "symbol": str(symbol), "order_side": side.value},
        )
        total = s.dialect.money_from(row[0])
        return total if total is not None else Decimal(0)

    def expect_activity(self, user_id: UUID, symbol: Symbol, *, since: datetime) -> None:
        s = self._session
        d = s.dialect
        arguments = (user_id, symbol, since)

        def receive(rows: list[Any]) -> None:
            self._expected[arguments] = rows[0]
            self._expecting = None

        self._expecting = receive
        s.read_along(
            s.sql.activity,
            {"user_id": d.uuid(user_id), "symbol": str(symbol), "since": d.time(since)},
            receive,
        )

    def activity(self, user_id: UUID, symbol: Symbol, *, since: datetime) -> OrderActivity:
        s = self._session
        d = s.dialect
        # Read ahead in this transaction (under its lock), and used once.
        row = self._expected.pop((user_id, symbol, since), None)
        if self._expecting is not None:  # asked before anything sent it
            s.drop_read_along(self._expecting)
            self._expecting = None
        if row is None or not s.in_transaction:
            row = s.fetch_one(
                s.sql.activity,
                {"user_id": d.uuid(user_id), "symbol": str(symbol), "since": d.time(since)},
            )
        money_from = d.money_from
        return OrderActivity(int(row[0]), money_from(row[1]) or _ZERO, money_from(row[2]) or _ZERO)

    def lock_user(self, user_id: UUID) -> None:
        s = self._session
        if s.dialect.serialises_writers:
            s.lock(user_id, None, {})  # BEGIN IMMEDIATE: one writer at a time already
        else:
            # Buffered: the next read (or the commit) sends it with the BEGIN.
            s.lock(user_id, s.sql.lock_user, {"user_id": s.dialect.uuid(user_id)})

    def mark_position_applied(self, order_id: UUID, at: datetime) -> bool:
        s = self._session
        d = s.dialect
        if order_id in self._marked:
            return False
        self._marked.add(order_id)
        # Sent with the commit (no round trip of its own): a mark already made
        # changes no row, and the commit raises the conflict.
        s.write(
            s.sql.mark_position_applied,
            {"id": d.uuid(order_id), "at": d.time(at)},
            ConcurrencyConflict(order_id, 0),
        )
        staged = self._staged.get(order_id)
        if staged is not None:
            staged.position_applied_at = at
        return True

    def needing_recovery(self, *, now: datetime, stale_before: datetime) -> list[Order]:
        s = self._session
        d = s.dialect
        rows = s.fetch_all(
            s.sql.needing_recovery, {"now": d.time(now), "stale_before": d.time(stale_before)}
        )
        return self._orders(rows)

    def _count(self, user_id: UUID, status: OrderStatus | None) -> int:
        if status is None:
            return self.count_by_user(user_id)
        s = self._session
        row = s.fetch_one(
            s.sql.count_by_user_and_status,
            {"user_id": s.dialect.uuid(user_id), "status": status.value},
        )
        return int(row[0])

    def _orders(self, rows: Sequence[Sequence[Any]]) -> list[Order]:
        dialect = self._session.dialect
        return [order_from_row(row, dialect) for row in rows]


def _limit(session: Session, limit: int | None) -> int | None:
    if limit is not None:
        return limit
    return -1 if session.dialect.name == "sqlite" else None  # "no limit" in each dialect
