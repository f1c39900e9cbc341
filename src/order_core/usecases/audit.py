"""The audit: do the books balance? Per account, cash against the executed
orders, what is held against the live BUYs, and each holding against the
executions applied to it. It reads, never writes; an operator runs it after an
incident, and the tests use it as their oracle."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from uuid import UUID

from order_core.decimals import add, subtract
from order_core.dependencies import Dependencies
from order_core.order import Order
from order_core.records import AccountBook
from order_core.results import Discrepancy
from order_core.values import OrderSide, OrderStatus, Symbol

__all__ = ["audit_books"]

_ZERO = Decimal(0)


def audit_books(deps: Dependencies, books: Iterable[AccountBook]) -> list[Discrepancy]:
    """Every discrepancy in ``books`` (empty when they balance)."""
    found: list[Discrepancy] = []
    for book in books:
        with deps.unit_of_work() as uow:
            orders = uow.orders.list_by_user(book.user_id)
        found.extend(_audit(book, orders))
    return found


def _audit(book: AccountBook, orders: list[Order]) -> list[Discrepancy]:
    user = book.user_id
    found: list[Discrepancy] = []
    executed = [order for order in orders if order.status is OrderStatus.EXECUTED]
    cash = book.opening_cash
    for order in executed:
        value = order.execution_value or _ZERO
        cash = add(cash, value) if order.side is OrderSide.SELL else subtract(cash, value)
    if cash != book.cash:
        found.append(
            _found(
                user,
                "cash",
                None,
                cash,
                book.cash,
                executed,
                "cash is not opening cash plus executed SELLs less executed BUYs",
            )
        )
    live_buys = [order for order in orders if not order.is_terminal and order.side is OrderSide.BUY]
    held = _ZERO
    for order in live_buys:
        held = add(held, order.cash_held)
    if held != book.reserved:
        found.append(
            _found(
                user,
                "held",
                None,
                held,
                book.reserved,
                live_buys,
                "cash held is not what the live BUY orders hold",
            )
        )
    if subtract(book.cash, book.reserved) < 0:
        found.append(
            _found(
                user,
                "overdrawn",
                None,
                book.reserved,
                book.cash,
                live_buys,
                "more cash is held than the account has",
            )
        )
    symbols = set(book.positions) | {order.symbol for order in executed}
    for symbol in sorted(symbols):
        found.extend(_audit_position(book, symbol, orders))
    return found


def _audit_position(book: AccountBook, symbol: Symbol, orders: list[Order]) -> list[Discrepancy]:
    opening, now = book.positions.get(symbol, (_ZERO, _ZERO))
    of_symbol = [order for order in orders if order.symbol == symbol]
    applied = [order for order in of_symbol if order.position_applied_at is not None]
    expected = opening
    for order in applied:
        quantity = order.quantity.value
        expected = (
            add(expected, quantity) if order.side is OrderSide.BUY else subtract(expected, quantity)
        )
    found = []
    if expected != now:
        found.append(
            _found(
                book.user_id,
                "position",
                symbol,
                expected,
                now,
                applied,
                "the holding is not its opening plus the executions applied to it",
            )
        )
    selling = [
        order
        for order in of_symbol
        if order.side is OrderSide.SELL
        and (
            not order.is_terminal
            or (order.status is OrderStatus.EXECUTED and order.position_applied_at is None)
        )
    ]
    committed = _ZERO
    for order in selling:
        committed = add(committed, order.quantity.value)
    if committed > now:
        found.append(
            _found(
                book.user_id,
                "oversold",
                symbol,
                now,
                committed,
                selling,
                "open and unapplied SELLs exceed the holding",
            )
        )
    return found


def _found(  # noqa: PLR0917  # one line per discrepancy reads best positionally
    user: UUID,
    kind: str,
    symbol: Symbol | None,
    expected: Decimal,
    actual: Decimal,
    orders: list[Order],
    message: str,
) -> Discrepancy:
    return Discrepancy(
        user_id=user,
        kind=kind,
        symbol=None if symbol is None else symbol.value,
        expected=expected,
        actual=actual,
        order_ids=tuple(order.id for order in orders),
        message=message,
    )
