"""Random submits, price moves, processing, sweeps and cancels by several users,
cancels racing executions in threads, and crashes at random steps followed by a
restart and recovery, with the service's invariants (the audit among them)
checked after every step."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from order_core import (
    DependencyUnavailable,
    IdempotencyKeyReused,
    InvalidInput,
    OrderAccessDenied,
    OrderError,
    OrderNotCancellable,
    OrderRejected,
    OrderService,
    OrderSide,
    OrderStatus,
    OrderType,
    SubmitOrder,
    Symbol,
)
from order_core.values import ALLOWED_TRANSITIONS
from tests.conftest import PRICES, build_world
from tests.faults import Crash, FaultyUnitsOfWork

USERS = [UUID(int=(0x4000 << 64) | (0x8000 << 48) | n) for n in (1, 2, 3)]
SYMBOLS = sorted(PRICES)
START_CASH = Decimal("20000")
START_POSITION = Decimal("40")
STALE = timedelta(seconds=30)
STEPS = [
    "orders.lock_user",
    "orders.update",
    "orders.add",
    "ledger.hold",
    "ledger.settle",
    "ledger.release",
    "ledger.move_position",
    "idempotency.put",
    "outbox.add",
    "commit",
]
D = Decimal


def reachable(status: OrderStatus) -> set[OrderStatus]:
    """Every status an order in ``status`` may be seen in later (itself included)."""
    seen, frontier = {status}, [status]
    while frontier:
        for nxt in ALLOWED_TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen


class OrderFlow(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.world = build_world()
        for user in USERS:
            self.world.ledger.open_account(
                user, cash=START_CASH, positions=dict.fromkeys(SYMBOLS, START_POSITION)
            )
        self.owner: dict[UUID, UUID] = {}
        self.last_status: dict[UUID, OrderStatus] = {}
        self.orders_by_key: dict[tuple[UUID, str], set[UUID]] = defaultdict(set)

    # -- rules --------------------------------------------------------------------------

    @rule(
        target=orders,
        user=st.sampled_from(USERS),
        symbol=st.sampled_from(SYMBOLS),
        order_type=st.sampled_from(OrderType),
        side=st.sampled_from(OrderSide),
        quantity=st.sampled_from(["1", "2.5", "7", "0.00000001", "-1", "30", "39", "40", "41"]),
        offset=st.sampled_from(["-0.12", "-0.05", "0", "0.03", "0.08"]),
        key=st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3"])),
    )
    def submit(
        self,
        user: UUID,
        symbol: str,
        order_type: OrderType,
        side: OrderSide,
        quantity: str,
        offset: str,
        key: str | None,
    ) -> UUID | None:
        market = self.world.market.get_quote(Symbol(symbol))
        assert market is not None
        near = (market.price * (1 + D(offset))).quantize(D("0.01"))
        price = near if order_type.needs_price else None
        stop = (
            (near - D("1") if side is OrderSide.BUY else near + D("1"))
            if (order_type.needs_stop_price)
            else None
        )
        if order_type is OrderType.STOP_LOSS:
            stop = near
        command = SubmitOrder(
            user_id=user,
            symbol=symbol,
            order_type=order_type,
            order_side=side,
            quantity=quantity,
            price=price,
            stop_price=stop,
            idempotency_key=key,
        )
        try:
            receipt = self.world.service.submit(command)
        except (InvalidInput, OrderRejected, IdempotencyKeyReused):
            return None
        self.owner[receipt.order_id] = user
        self.last_status.setdefault(receipt.order_id, OrderStatus.PENDING)
        if key is not None:
            self.orders_by_key[(user, key)].add(receipt.order_id)
        return receipt.order_id

    @rule(symbol=st.sampled_from(SYMBOLS), factor=st.sampled_from(["0.9", "0.97", "1.04", "1.1"]))
    def move_price(self, symbol: str, factor: str) -> None:
        quote = self.world.market.get_quote(Symbol(symbol))
        assert quote is not None
        self.world.market.set_price(symbol, (quote.price * D(factor)).quantize(D("0.01")))

    @rule()
    def pump(self) -> None:
        self.world.runtime.pump()

    @rule()
    def sweep(self) -> None:
        self.world.service.sweep()

    @rule(order_id=orders)
    def process(self, order_id: UUID | None) -> None:
        if order_id is not None:
            self.world.service.process(order_id)

    @rule(order_id=orders, user=st.sampled_from(USERS))
    def cancel(self, order_id: UUID | None, user: UUID) -> None:
        if order_id is None:
            return
        try:
            self.world.service.cancel(order_id, user)
        except OrderAccessDenied:
            assert user != self.owner[order_id]
        except OrderNotCancellable:
            assert self.last_status[order_id].is_terminal or self.current(order_id).is_terminal
        else:
            assert user == self.owner[order_id]

    @rule(order_id=orders, user=st.sampled_from(USERS))
    def look(self, order_id: UUID | None, user: UUID) -> None:
        if order_id is None:
            return
        try:
            details = self.world.service.get_details(order_id, user)
        except OrderAccessDenied:
            assert user != self.owner[order_id]
        else:
            assert details.user_id == user == self.owner[order_id]

    @rule(order_id=orders)
    def cancel_races_execution(self, order_id: UUID | None) -> None:
        if order_id is None:
            return
        start = threading.Barrier(2)

        def execute() -> None:
            start.wait()
            with contextlib.suppress(OrderError):  # lost to the cancel, or already final
                self.world.service.process(order_id)

        def cancel() -> None:
            start.wait()
            with contextlib.suppress(OrderError):  # lost to the execution, or already final
                self.world.service.cancel(order_id, self.owner[order_id])

        threads = [threading.Thread(target=execute), threading.Thread(target=cancel)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    @rule(
        order_id=orders,
        action=st.sampled_from(["process", "cancel", "keep"]),
        step=st.sampled_from(STEPS),
        when=st.sampled_from(["before", "after"]),
    )
    def crash_then_restart(self, order_id: UUID | None, action: str, step: str, when: str) -> None:
        """A process dies at ``step`` of ``action``; a new one recovers once the
        work is stale."""
        if order_id is None:
            return
        faults = FaultyUnitsOfWork(self.world.service.dependencies.unit_of_work)
        faults.arm(step, when=when)
        dying = OrderService(
            dataclasses.replace(self.world.service.dependencies, unit_of_work=faults)
        )
        try:
            if action == "process":
                dying.process(order_id)
            elif action == "cancel":
                dying.cancel(order_id, self.owner[order_id])
            else:
                dying.apply_position_update(order_id)
        except (Crash, OrderError, DependencyUnavailable):
            pass
        self.world.clock.advance(STALE)
        self.world.service.recover(stale_after=STALE)

    @rule(seconds=st.sampled_from([1, 60, 3600]))
    def wait(self, seconds: int) -> None:
        self.world.clock.advance(timedelta(seconds=seconds))

    # -- invariants -----------------------------------------------------------------------

    def current(self, order_id: UUID) -> OrderStatus:
        return self.world.service.get_status(order_id, self.owner[order_id]).status

    @invariant()
    def statuses_only_move_forward(self) -> None:
        for order_id, before in self.last_status.items():
            now = self.current(order_id)
            assert now in reachable(before), f"{order_id}: {before} -> {now}"
            assert now is not OrderStatus.PROCESSING  # nothing is left half-executed
            self.last_status[order_id] = now

    @invariant()
    def users_see_exactly_their_own_orders(self) -> None:
        for user in USERS:
            page = self.world.service.get_history(user, limit=100)
            assert all(order.user_id == user for order in page.orders)
            assert page.total_count == sum(1 for owner in self.owner.values() if owner == user)

    @invariant()
    def the_audit_finds_nothing(self) -> None:
        assert self.world.service.audit(self.world.ledger.books()) == []

    @invariant()
    def one_key_never_yields_two_orders(self) -> None:
        assert all(len(ids) <= 1 for ids in self.orders_by_key.values())

    @invariant()
    def cash_and_holds_are_conserved(self) -> None:
        for user in USERS:
            orders = self.world.service.get_history(user, limit=100).orders
            executed = [o for o in orders if o.status is OrderStatus.EXECUTED]
            spent = sum(
                (o.execution_value or D(0)) for o in executed if o.order_side is OrderSide.BUY
            )
            earned = sum(
                (o.execution_value or D(0)) for o in executed if o.order_side is OrderSide.SELL
            )
            held = sum(
                (o.estimated_value or D(0))
                for o in orders
                if o.status in (OrderStatus.PENDING, OrderStatus.PROCESSING)
                and o.order_side is OrderSide.BUY
            )
            balance = self.world.ledger.balances.get_balance(user)
            assert balance.cash == START_CASH - spent + earned
            assert balance.reserved == held
            assert balance.cash >= 0

    @invariant()
    def positions_follow_executions_once_delivered(self) -> None:
        quiet = self.world.database.outbox.pending_count() == 0 and self.world.broker.pending() == 0
        if not quiet:
            return
        for user in USERS:
            executed = [
                o
                for o in self.world.service.get_history(user, limit=100).orders
                if o.status is OrderStatus.EXECUTED
            ]
            for symbol in SYMBOLS:
                change = sum(
                    (o.quantity if o.order_side is OrderSide.BUY else -o.quantity)
                    for o in executed
                    if o.symbol == symbol
                )
                held = self.world.ledger.positions.get_position(user, Symbol(symbol)).quantity
                assert held == START_POSITION + change


OrderFlow.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestOrderFlow = OrderFlow.TestCase
