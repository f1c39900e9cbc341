"""The in-memory :class:`~order_core.ports.OrderRepository`: a unit of work's
view of the orders, its own staged changes over the committed rows."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from order_adapters.memory import rows
from order_adapters.memory.committed import OPEN_STATUSES, index_key, moves_holding, unapplied
from order_adapters.memory.rows import OrderRow, order_from_row, order_to_row
from order_adapters.memory.staging import StagedChanges
from order_core.decimals import add
from order_core.errors import ConcurrencyConflict
from order_core.order import Order
from order_core.records import OrderActivity, OrderPage
from order_core.values import OrderSide, OrderStatus, OrderType, Symbol

__all__ = ["InMemoryRepository"]

_ZERO = Decimal(0)
_BUY, _SELL = OrderSide.BUY.value, OrderSide.SELL.value
_MARKET = OrderType.MARKET.value
_PENDING = OrderStatus.PENDING.value


def total(amounts: Iterable[Decimal]) -> Decimal:
    """Exact sum, whatever the caller's decimal context."""
    result = _ZERO
    for amount in amounts:
        result = add(result, amount)
    return result


def _is_open(row: OrderRow) -> bool:
    return row[rows.STATUS] in OPEN_STATUSES


def _abandoned(row: OrderRow, now: datetime, stale_before: datetime) -> bool:
    """A live order whose processing is due or was left behind."""
    due = row[rows.NEXT_ATTEMPT_AT]
    if due is not None:
        return due <= now
    if row[rows.STATUS] == _PENDING and row[rows.TYPE] != _MARKET:
        return False  # resting: the sweep serves it when prices move
    return row[rows.UPDATED_AT] <= stale_before


class InMemoryRepository:
    """The unit of work's ``orders``: committed rows through the indexes, or,
    once this unit has changes, every row it sees."""

    __slots__ = ("_db", "_staged")

    def __init__(self, staged: StagedChanges) -> None:
        self._staged = staged
        self._db = staged.db

    def add(self, order: Order) -> None:
        order_id = order.id.int
        if self._staged.current(order_id) is not None:
            raise ConcurrencyConflict(order.id, 0)
        order.version = 1
        self._staged.stage_order(order_id, order_to_row(order))

    def get(self, order_id: UUID) -> Order | None:
        staged = self._staged
        if staged.added or staged.updated:
            row = staged.current(order_id.int)
        else:  # the common case: nothing staged, read the committed row
            row = self._db.orders.get(order_id.int)
        return None if row is None else order_from_row(row)

    def update(self, order: Order) -> None:
        staged = self._staged
        order_id = order.id.int
        if staged.added or staged.updated:
            current = staged.current(order_id)
        else:
            current = self._db.orders.get(order_id)
        if current is None or current[rows.VERSION] != order.version:
            raise ConcurrencyConflict(order.id, order.version)
        order.version += 1
        row = order_to_row(order)
        if order_id in staged.added:
            staged.stage_order(order_id, row)
        else:
            previous = staged.updated.get(order_id)
            expected = order.version - 1 if previous is None else previous[0]
            staged.stage_update(order_id, expected, row)

    # -- queries -------------------------------------------------------------------

    def list_by_user(self, user_id: UUID, status: OrderStatus | None = None) -> list[Order]:
        wanted = None if status is None else status.value
        return self._newest_first(
            user_id.int, lambda row: wanted is None or row[rows.STATUS] == wanted
        )

    def list_by_status(
        self,
        status: OrderStatus,
        *,
        symbols: Iterable[Symbol] | None = None,
        limit: int | None = None,
    ) -> list[Order]:
        wanted = status.value
        symbol_set = None if symbols is None else {str.__str__(s) for s in symbols}

        def matches(row: OrderRow) -> bool:
            return row[rows.STATUS] == wanted and (
                symbol_set is None or row[rows.SYMBOL] in symbol_set
            )

        with self._db.lock:
            if self._staged.has_changes:
                found = [row for row in self._staged.visible_rows() if matches(row)]
            else:
                committed = self._db.orders
                found = [
                    row
                    for row in map(committed.__getitem__, self._db.by_status[wanted])
                    if matches(row)
                ]
        found.sort(key=index_key)
        return [order_from_row(row) for row in found[:limit]]

    def history(
        self, user_id: UUID, *, limit: int, offset: int, status: OrderStatus | None = None
    ) -> OrderPage:
        with self._db.lock:
            if status is None and not self._staged.has_changes:
                keys = self._db.by_user.get(user_id.int, [])
                total = len(keys)
                end = max(total - offset, 0)
                start = max(end - limit, 0)
                committed = self._db.orders
                page = [committed[order_id] for _, order_id in reversed(keys[start:end])]
                return OrderPage(orders=[order_from_row(row) for row in page], total_count=total)
        matching = self.list_by_user(user_id, status)
        return OrderPage(orders=matching[offset : offset + limit], total_count=len(matching))

    def list_by_symbol(self, symbol: Symbol, status: OrderStatus | None = None) -> list[Order]:
        text = str.__str__(symbol)
        wanted = None if status is None else status.value

        def matches(row: OrderRow) -> bool:
            return row[rows.SYMBOL] == text and (wanted is None or row[rows.STATUS] == wanted)

        with self._db.lock:
            if self._staged.has_changes:
                found = [row for row in self._staged.visible_rows() if matches(row)]
            else:
                committed = self._db.orders
                ids = self._db.by_symbol.get(text, {})
                found = [row for row in map(committed.__getitem__, ids) if matches(row)]
        found.sort(key=index_key, reverse=True)
        return [order_from_row(row) for row in found]

    def list_by_date_range(self, user_id: UUID, start: datetime, end: datetime) -> list[Order]:
        return self._newest_first(
            user_id.int, lambda row: start <= row[rows.CREATED_AT] < end, since=start
        )

    def count_by_user(self, user_id: UUID, *, since: datetime | None = None) -> int:
        if not self._staged.has_changes:
            # No lock: bisect runs in C under the GIL, so it sees the list whole.
            times = self._db.times_by_user.get(user_id.int)
            if not times:
                return 0
            if since is None:
                return len(times)
            return len(times) - bisect.bisect_left(times, since)
        return len(
            self._newest_first(
                user_id.int,
                lambda row: since is None or row[rows.CREATED_AT] >= since,
                since=since,
            )
        )

    def open_quantity(self, user_id: UUID, symbol: Symbol, side: OrderSide) -> Decimal:
        return self._rows_quantity(user_id.int, symbol, side._value_, _is_open)

    def activity(self, user_id: UUID, symbol: Symbol, *, since: datetime) -> OrderActivity:
        user = user_id.int
        if not self._staged.has_changes:
            pending = self._db.pending_quantities
            return OrderActivity(
                self.count_by_user(user_id, since=since),
                pending.get((user, symbol, _BUY), _ZERO),  # a Symbol finds its plain-text key
                pending.get((user, symbol, _SELL), _ZERO),
            )
        return OrderActivity(
            self.count_by_user(user_id, since=since),
            self._rows_quantity(user, symbol, _BUY, moves_holding),
            self._rows_quantity(user, symbol, _SELL, moves_holding),
        )

    def expect_activity(self, user_id: UUID, symbol: Symbol, *, since: datetime) -> None:
        pass  # read from memory when asked: nothing to gain by reading ahead

    def lock_user(self, user_id: UUID) -> None:
        self._staged.lock_user(user_id.int)

    def mark_position_applied(self, order_id: UUID, at: datetime) -> bool:
        staged = self._staged
        row = staged.current(order_id.int)
        if row is None or not unapplied(row):
            return False
        applied = (*row[: rows.POSITION_APPLIED_AT], at)
        if order_id.int in staged.added:
            staged.stage_order(order_id.int, applied)
        else:
            previous = staged.updated.get(order_id.int)
            expected = row[rows.VERSION] if previous is None else previous[0]
            staged.stage_update(order_id.int, expected, applied)
        return True

    def needing_recovery(self, *, now: datetime, stale_before: datetime) -> list[Order]:
        db = self._db
        with db.lock:
            committed = db.orders
            found = [
                row
                for status in (OrderStatus.PENDING.value, OrderStatus.PROCESSING.value)
                for row in map(committed.__getitem__, db.by_status[status])
                if _abandoned(row, now, stale_before)
            ]
            found.extend(
                row
                for row in map(committed.__getitem__, db.unapplied)
                if (row[rows.EXECUTED_AT] or row[rows.UPDATED_AT]) <= stale_before
            )
        found.sort(key=index_key)
        return [order_from_row(row) for row in found]

    def _rows_quantity(
        self, user: int, symbol: str, side: str, counts: Callable[[OrderRow], bool]
    ) -> Decimal:
        with self._db.lock:
            return total(
                row[rows.QUANTITY]
                for row in self._staged.visible_rows()
                if (row[rows.USER], row[rows.SYMBOL], row[rows.SIDE]) == (user, symbol, side)
                and counts(row)
            )

    def _newest_first(
        self,
        user: int,
        keep: Callable[[OrderRow], bool],
        *,
        since: datetime | None = None,
    ) -> list[Order]:
        with self._db.lock:
            if self._staged.has_changes:
                found = [
                    row
                    for row in self._staged.visible_rows()
                    if row[rows.USER] == user and keep(row)
                ]
                found.sort(key=index_key, reverse=True)
            else:
                keys = self._db.by_user.get(user, [])
                first = 0 if since is None else bisect.bisect_left(keys, (since,))
                committed = self._db.orders
                found = [
                    row
                    for row in (committed[order_id] for _, order_id in reversed(keys[first:]))
                    if keep(row)
                ]
        return [order_from_row(row) for row in found]


if TYPE_CHECKING:
    from order_core.ports import OrderRepository

    def _implements(repository: InMemoryRepository) -> OrderRepository:
        return repository
