"""Races on PostgreSQL with real threads, each on its own pooled connection."""

from __future__ import annotations

import threading
import time
from collections import Counter
from decimal import Decimal
from uuid import uuid4

import pytest

from order_adapters.sql import SqlDatabase
from order_core import (
    ConcurrencyConflict,
    IdempotencyInProgress,
    OrderNotCancellable,
    OrderStatus,
    ProcessOutcome,
    SubmitOrder,
)
from order_core.records import Quote
from tests.conftest import ALICE, build_world

D = Decimal


def _run_together(*targets: object) -> None:
    start = threading.Barrier(len(targets))
    threads = []
    for target in targets:

        def run(target: object = target) -> None:
            start.wait()
            target()  # type: ignore[operator]

        threads.append(threading.Thread(target=run))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_two_writers_of_one_order_exactly_one_wins(postgres_database: SqlDatabase) -> None:
    world = build_world(database=postgres_database)
    for round_ in range(20):
        order_id = world.submit(
            order_type="LIMIT", price="140", quantity="1", idempotency_key=f"round-{round_}"
        )
        outcomes: list[object] = []
        loaded = threading.Barrier(2)

        def write(
            change: str,
            order_id: object = order_id,
            loaded: threading.Barrier = loaded,
            outcomes: list[object] = outcomes,
        ) -> None:
            with postgres_database.unit_of_work() as uow:
                order = uow.orders.get(order_id)  # type: ignore[arg-type]
                assert order is not None
                loaded.wait()  # both hold version 1 before either writes
                if change == "cancel":
                    order.cancel(world.clock.now())
                else:
                    order.start_processing(
                        Quote(order.symbol, D("140"), world.clock.now()), world.clock.now()
                    )
                try:
                    uow.orders.update(order)
                    uow.commit()
                    outcomes.append(change)
                except ConcurrencyConflict as conflict:
                    outcomes.append(conflict.code)

        _run_together(lambda: write("cancel"), lambda: write("process"))
        lost = "CONCURRENT_MODIFICATION"
        assert sorted(map(str, outcomes)) in (
            ["CONCURRENT_MODIFICATION", "cancel"],
            [lost, "process"],
        )
        winner = next(o for o in outcomes if o != lost)
        final = world.order(order_id).status  # type: ignore[arg-type]
        expected = OrderStatus.CANCELLED if winner == "cancel" else OrderStatus.PROCESSING
        assert final is expected


def test_cancel_racing_execution_keeps_the_books_straight(
    postgres_database: SqlDatabase,
) -> None:
    world = build_world(database=postgres_database)
    results: Counter[str] = Counter()
    for round_ in range(30):
        order_id = world.submit(quantity="1", idempotency_key=f"race-{round_}")

        def execute(order_id: object = order_id) -> None:
            outcome = world.service.process(order_id).outcome  # type: ignore[arg-type]
            results[f"process:{outcome}"] += 1

        def cancel(order_id: object = order_id) -> None:
            try:
                world.service.cancel(order_id, ALICE)  # type: ignore[arg-type]
                results["cancel:won"] += 1
            except (ConcurrencyConflict, OrderNotCancellable) as lost:
                results[f"cancel:{lost.code}"] += 1

        _run_together(execute, cancel)
        assert world.order(order_id).status in (OrderStatus.EXECUTED, OrderStatus.CANCELLED)  # type: ignore[arg-type]
    executed = world.service.get_history(ALICE, status="EXECUTED", limit=100).total_count
    balance = world.ledger.balances.get_balance(ALICE)
    assert balance.reserved == 0
    assert balance.cash == D("100000") - executed * D("150")
    assert results["process:" + ProcessOutcome.EXECUTED] == executed


def test_thirty_two_submissions_of_one_key_make_one_order(postgres_database: SqlDatabase) -> None:
    world = build_world(database=postgres_database)
    command = SubmitOrder(ALICE, "AAPL", "LIMIT", "BUY", "2", price="149", idempotency_key="k")
    answers: list[object] = []
    lock = threading.Lock()

    def submit() -> None:
        try:
            answer: object = world.service.submit(command)
        except IdempotencyInProgress as busy:
            answer = busy
        with lock:
            answers.append(answer)

    _run_together(*([submit] * 32))
    receipts = [a for a in answers if not isinstance(a, IdempotencyInProgress)]
    assert len(answers) == 32
    assert len({receipt.order_id for receipt in receipts}) == 1  # type: ignore[attr-defined]
    assert sum(not receipt.replayed for receipt in receipts) == 1  # type: ignore[attr-defined]
    with postgres_database.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT count(*) FROM orders").scalar()
        records = connection.exec_driver_sql("SELECT count(*) FROM order_idempotency").scalar()
    assert (rows, records) == (1, 1)
    assert world.ledger.balances.get_balance(ALICE).reserved == D("298")  # one hold


def test_a_locked_user_is_read_as_the_previous_holder_committed(
    postgres_database: SqlDatabase,
) -> None:
    """Two units of work for one user, each: lock the user, read the balance,
    hold half of what is available, commit. Without the lock both would read
    the same balance; with it the second waits and reads the first's hold."""
    from order_adapters.simulated.sql_ledger import SqlLedger  # noqa: PLC0415

    ledger = SqlLedger(postgres_database)
    postgres_database.attach_ledger(ledger.within)
    for round_ in range(5):
        ledger.open_account(ALICE, cash="100")
        seen: list[Decimal] = []

        def hold_half(seen: list[Decimal] = seen, round_: int = round_) -> None:
            with postgres_database.unit_of_work() as uow:
                uow.orders.lock_user(ALICE)
                available = uow.ledger.cash(ALICE).available
                seen.append(available)
                time.sleep(0.1)  # the other one reads now, unless it waits for the lock
                uow.ledger.hold(ALICE, uuid4(), available / 2)
                uow.commit()

        _run_together(hold_half, hold_half)
        assert sorted(seen) == [D("50"), D("100")], f"round {round_}"
        assert ledger.balances.get_balance(ALICE).reserved == D("75")


pytestmark = pytest.mark.postgres
