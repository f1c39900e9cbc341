"""Cash and holdings over the platform's BalanceService and PositionService:
the read ports, the accounts the service infers from them, and the
:class:`~order_core.ports.Ledger` a unit of work moves money through.

Money moves by order-keyed calls (``ReserveBalance``, ``DeductBalance``...),
made when the core asks, inside its transaction. A remote call is not part of
that transaction, so :class:`PlatformUnitOfWork` remembers what it moved and
reverses it (``ReverseBalance``) when the transaction does not commit; a crash
in between is left to recovery, which repeats the order-keyed call (a no-op
when it was made) or, for an order that was never stored, finds the hold by
its order id (docs/platform.md, "Money").
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Self
from uuid import UUID

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from order_adapters.grpc.generated import balance_service_pb2 as balance_pb
from order_adapters.grpc.generated import balance_service_pb2_grpc as balance_grpc
from order_adapters.grpc.generated import position_service_pb2 as position_pb
from order_adapters.grpc.generated import position_service_pb2_grpc as position_grpc
from order_adapters.platform.resilience import BadAnswer, Guard, Refused
from order_adapters.user_ids import platform_user_id
from order_core.decimals import add, format_decimal, parse_decimal, round_amount
from order_core.errors import DependencyUnavailable, InsufficientBalance, InvalidInput
from order_core.ports import (
    IdempotencyRecords,
    Inbox,
    Ledger,
    OrderRepository,
    OutboxWriter,
    UnitOfWork,
)
from order_core.records import AccountStatus, Balance, Position
from order_core.values import Symbol

__all__ = [
    "BALANCE_SERVICE",
    "POSITION_SERVICE",
    "GrpcBalances",
    "GrpcPositions",
    "PlatformAccounts",
    "PlatformUnitOfWork",
]

_log = logging.getLogger("order_adapters.platform")
BALANCE_SERVICE = "balance service"
POSITION_SERVICE = "position service"
_ZERO = Decimal(0)
#: Holdings that no longer count.
_CLOSED = frozenset({"CLOSED", "LIQUIDATED"})


def _amount(value: float, *, service: str, what: str) -> Decimal:
    """A double from the wire as an exact amount; NaN or negative is a BadAnswer."""
    if not math.isfinite(value) or value < 0:
        raise BadAnswer(service, f"{what} {value!r} is not a non-negative number")
    return round_amount(Decimal(repr(value)))


def _decimal_text(text: str, *, service: str, what: str) -> Decimal:
    try:
        return parse_decimal(text, field=what)
    except InvalidInput:
        raise BadAnswer(service, f"{what} {text!r} is not a decimal") from None


class GrpcBalances:
    """:class:`~order_core.ports.Balances` and the money movements, over
    ``BalanceService`` at ``channel``."""

    def __init__(self, channel: grpc.Channel, guard: Guard) -> None:
        self._stub = balance_grpc.BalanceServiceStub(channel)
        self.guard = guard

    def lookup(self, user_id: UUID) -> Balance | None:
        """The user's balance; None when the service knows no such user."""
        request = balance_pb.GetBalanceRequest(user_id=platform_user_id(user_id))
        stub = self._stub
        try:
            response = self.guard.call(
                "GetBalance", lambda timeout: stub.GetBalance(request, timeout=timeout)
            )
        except Refused as refused:
            if refused.code is grpc.StatusCode.NOT_FOUND:
                return None
            raise DependencyUnavailable(BALANCE_SERVICE, str(refused)) from refused
        balance = response.balance
        total = _amount(balance.total_balance, service=BALANCE_SERVICE, what="total_balance")
        reserved = _amount(
            balance.reserved_balance, service=BALANCE_SERVICE, what="reserved_balance"
        )
        return Balance(user_id, total, reserved)

    def get_balance(self, user_id: UUID) -> Balance:
        found = self.lookup(user_id)
        return Balance(user_id, _ZERO, _ZERO) if found is None else found

    def move(self, movement: str, user_id: UUID, order_id: UUID, amount: Decimal) -> bool:
        """One order-keyed movement (RESERVE, RELEASE, DEDUCT, CREDIT): retried
        on a transient failure, since the same call twice moves money once.
        Whether this call applied it (False: it already was)."""
        method = _METHODS[movement]
        request = balance_pb.MoneyMovementRequest(
            user_id=platform_user_id(user_id),
            order_id=str(order_id),
            amount=format_decimal(amount),
        )
        send = getattr(self._stub, method)
        try:
            response = self.guard.call(method, lambda timeout: send(request, timeout=timeout))
        except Refused as refused:
            raise _refusal(refused, amount) from refused
        return bool(response.applied)

    def reverse(self, movement: str, user_id: UUID, order_id: UUID) -> bool:
        """Undo an order's movement, if applied (compensation)."""
        request = balance_pb.ReverseBalanceRequest(
            user_id=platform_user_id(user_id), order_id=str(order_id), movement=movement
        )
        stub = self._stub
        try:
            response = self.guard.call(
                "ReverseBalance", lambda timeout: stub.ReverseBalance(request, timeout=timeout)
            )
        except Refused as refused:
            raise DependencyUnavailable(BALANCE_SERVICE, str(refused)) from refused
        return bool(response.applied)

    def movements(self, order_id: UUID) -> tuple[frozenset[str], Decimal]:
        """The order's applied movements and what it holds now (recovery, audit)."""
        request = balance_pb.GetOrderMovementsRequest(order_id=str(order_id))
        stub = self._stub
        try:
            response = self.guard.call(
                "GetOrderMovements",
                lambda timeout: stub.GetOrderMovements(request, timeout=timeout),
            )
        except Refused as refused:
            if refused.code is grpc.StatusCode.NOT_FOUND:
                return frozenset(), _ZERO
            raise DependencyUnavailable(BALANCE_SERVICE, str(refused)) from refused
        held = _decimal_text(response.held or "0", service=BALANCE_SERVICE, what="held")
        return frozenset(response.movements), held


_METHODS = {
    "RESERVE": "ReserveBalance",
    "RELEASE": "ReleaseBalance",
    "DEDUCT": "DeductBalance",
    "CREDIT": "CreditBalance",
}


def _refusal(refused: Refused, amount: Decimal) -> Exception:
    """INSUFFICIENT_BALANCE as the core's error; anything else an outage."""
    if refused.code is grpc.StatusCode.FAILED_PRECONDITION:
        status = rpc_status.from_call(refused.error)  # type: ignore[arg-type]
        for detail in status.details if status is not None else ():
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info) and info.reason == "INSUFFICIENT_BALANCE":
                available = info.metadata.get("limit", "0")
                return InsufficientBalance(
                    available=_decimal_text(available, service=BALANCE_SERVICE, what="limit"),
                    required=amount,
                )
    return DependencyUnavailable(BALANCE_SERVICE, str(refused))


class GrpcPositions:
    """:class:`~order_core.ports.Positions` over ``PositionService`` at ``channel``."""

    def __init__(self, channel: grpc.Channel, guard: Guard) -> None:
        self._stub = position_grpc.PositionServiceStub(channel)
        self.guard = guard

    def holdings(self, user_id: UUID, symbol: Symbol | None = None) -> dict[Symbol, Decimal]:
        """Every open holding of the user (or of one symbol), summed by symbol."""
        request = position_pb.GetPositionsRequest(user_id=platform_user_id(user_id))
        if symbol is not None:
            request.symbol = symbol
        stub = self._stub
        try:
            response = self.guard.call(
                "GetPositions", lambda timeout: stub.GetPositions(request, timeout=timeout)
            )
        except Refused as refused:
            if refused.code is grpc.StatusCode.NOT_FOUND:
                return {}
            raise DependencyUnavailable(POSITION_SERVICE, str(refused)) from refused
        found: dict[Symbol, Decimal] = {}
        for position in response.positions:
            if position.status.upper() in _CLOSED:
                continue
            text = position.symbol.strip().upper()
            if not text:
                raise BadAnswer(POSITION_SERVICE, "a position without a symbol")
            quantity = _amount(position.quantity, service=POSITION_SERVICE, what="quantity")
            key = Symbol(text)
            if symbol is None or key == symbol:
                found[key] = add(found.get(key, _ZERO), quantity)
        return found

    def get_position(self, user_id: UUID, symbol: Symbol) -> Position:
        return Position(user_id, symbol, self.holdings(user_id, symbol).get(symbol, _ZERO))


class PlatformAccounts:
    """:class:`~order_core.ports.Accounts` where the platform has no account
    service: a user the BalanceService knows has an active account that may
    trade every listed symbol (the gateway has authenticated the user; the
    platform keeps no trading permissions). Decision 'accounts' in
    docs/platform.md."""

    def __init__(self, balances: GrpcBalances) -> None:
        self._balances = balances

    def get_account(self, user_id: UUID) -> AccountStatus | None:
        return None if self._balances.lookup(user_id) is None else AccountStatus(user_id, True)

    def can_trade(self, user_id: UUID, symbol: Symbol) -> bool:  # noqa: ARG002  # the port's
        return self._balances.lookup(user_id) is not None

    def trading_status(self, user_id: UUID, symbol: Symbol) -> tuple[AccountStatus | None, bool]:  # noqa: ARG002
        known = self._balances.lookup(user_id) is not None  # one GetBalance
        return (AccountStatus(user_id, True) if known else None), known


class _UnitLedger:
    """The ledger of one :class:`PlatformUnitOfWork`: remote cash and/or
    holdings, the rest from the database's own (simulated) ledger."""

    __slots__ = ("_balances", "_positions", "_unit")

    def __init__(
        self,
        unit: PlatformUnitOfWork,
        balances: GrpcBalances | None,
        positions: GrpcPositions | None,
    ) -> None:
        self._unit = unit
        self._balances = balances
        self._positions = positions

    def cash(self, user_id: UUID) -> Balance:
        if self._balances is None:
            return self._unit.local_ledger.cash(user_id)
        return self._balances.get_balance(user_id)

    def position(self, user_id: UUID, symbol: Symbol) -> Decimal:
        if self._positions is None:
            return self._unit.local_ledger.position(user_id, symbol)
        return self._positions.get_position(user_id, symbol).quantity

    def hold(self, user_id: UUID, order_id: UUID, amount: Decimal) -> None:
        if self._balances is None:
            self._unit.local_ledger.hold(user_id, order_id, amount)
            return
        self._unit.move("RESERVE", user_id, order_id, amount)

    def release(self, user_id: UUID, order_id: UUID, amount: Decimal) -> None:
        if self._balances is None:
            self._unit.local_ledger.release(user_id, order_id, amount)
            return
        self._unit.move("RELEASE", user_id, order_id, amount)

    def settle(self, user_id: UUID, order_id: UUID, *, paid: Decimal, held: Decimal) -> None:
        if self._balances is None:
            self._unit.local_ledger.settle(user_id, order_id, paid=paid, held=held)
            return
        if paid < 0:
            self._unit.move("DEDUCT", user_id, order_id, paid.copy_negate())
        else:
            self._unit.move("CREDIT", user_id, order_id, paid)

    def move_position(self, user_id: UUID, symbol: Symbol, change: Decimal) -> None:
        if self._positions is None:
            self._unit.local_ledger.move_position(user_id, symbol, change)
        # Remote holdings are the platform's position keeper's: it applies the
        # execution from positions.updates, so nothing is called here.


class PlatformUnitOfWork:
    """The database's unit of work with a ledger that moves money remotely.

    Each movement is made when the core asks (so a refusal, like insufficient
    balance, reaches it inside its transaction) and remembered; a
    transaction that rolls back, fails to commit or is left uncommitted
    reverses them, newest first. A reversal that fails is logged for the
    reconciliation (docs/platform.md)."""

    __slots__ = ("_balances", "_inner", "_ledger", "_moved", "_positions")

    def __init__(
        self,
        inner: UnitOfWork,
        balances: GrpcBalances | None,
        positions: GrpcPositions | None,
    ) -> None:
        self._inner = inner
        self._balances = balances
        self._positions = positions
        self._ledger: _UnitLedger | None = None
        self._moved: list[tuple[str, UUID, UUID]] = []

    @property
    def orders(self) -> OrderRepository:
        return self._inner.orders

    @property
    def outbox(self) -> OutboxWriter:
        return self._inner.outbox

    @property
    def idempotency(self) -> IdempotencyRecords:
        return self._inner.idempotency

    @property
    def inbox(self) -> Inbox:
        return self._inner.inbox

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = _UnitLedger(self, self._balances, self._positions)
        return self._ledger

    @property
    def local_ledger(self) -> Ledger:
        """The database's own ledger, for what stays simulated."""
        return self._inner.ledger

    def move(self, movement: str, user_id: UUID, order_id: UUID, amount: Decimal) -> None:
        assert self._balances is not None
        if self._balances.move(movement, user_id, order_id, amount):
            self._moved.append((movement, user_id, order_id))

    def commit(self) -> None:
        try:
            self._inner.commit()
        except BaseException:
            self._compensate()
            raise
        self._moved.clear()

    def rollback(self) -> None:
        try:
            self._inner.rollback()
        finally:
            self._compensate()

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._inner.__exit__(exc_type, exc, traceback)
        finally:
            self._compensate()

    def _compensate(self) -> None:
        moved, self._moved = self._moved, []
        if not moved:
            return
        assert self._balances is not None
        for movement, user_id, order_id in reversed(moved):
            try:
                self._balances.reverse(movement, user_id, order_id)
            except DependencyUnavailable as error:
                _log.error(
                    "could not reverse %s of order %s (%s): reconcile it (docs/platform.md)",
                    movement,
                    order_id,
                    error.message,
                )


def unit_of_work_factory(
    inner: Callable[[], UnitOfWork],
    balances: GrpcBalances | None,
    positions: GrpcPositions | None,
) -> Callable[[], UnitOfWork]:
    """The database's units of work, each with the remote ledger."""

    def make() -> UnitOfWork:
        return PlatformUnitOfWork(inner(), balances, positions)

    return make


if TYPE_CHECKING:
    from order_core.ports import Accounts, Balances, Positions

    def _implements(
        balances: GrpcBalances,
        positions: GrpcPositions,
        accounts: PlatformAccounts,
        unit: PlatformUnitOfWork,
        ledger: _UnitLedger,
    ) -> tuple[Balances, Positions, Accounts, UnitOfWork, Ledger]:
        return balances, positions, accounts, unit, ledger
