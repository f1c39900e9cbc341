"""A crash at every step of submit, process, cancel and the position keeper,
on every system of record: after it, a restarted service runs recovery, the
client retries what it was not told the answer to, and then the books balance,
no acknowledged order is lost and no key made two orders.

The steps of each operation are found by running it once without a fault, so
a new step is covered as soon as it exists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from order_core import OrderError, OrderService, OrderStatus, SubmitOrder
from tests.conftest import ALICE, World, build_world
from tests.faults import Crash, FaultyUnitsOfWork
from tests.sql_databases import empty_postgres, fresh_sqlite

STALE = timedelta(seconds=30)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make_world(request: pytest.FixtureRequest) -> Iterator[Callable[[], World]]:
    """Builds a fresh world on the backend (several per test: one per crash point)."""
    opened = []

    def make() -> World:
        if request.param == "memory":
            return build_world()
        if request.param == "sqlite":
            database = fresh_sqlite(
                request.getfixturevalue("sqlite_template"), request.getfixturevalue("tmp_path")
            )
        else:
            database = empty_postgres(request.getfixturevalue("postgres_url"))
        opened.append(database)
        return build_world(database=database)

    yield make
    for database in opened:
        database.dispose()


def order(side: str = "BUY", quantity: str = "5", key: str = "k-1") -> SubmitOrder:
    return SubmitOrder(
        user_id=ALICE,
        symbol="AAPL",
        order_type="MARKET",
        order_side=side,
        quantity=quantity,
        idempotency_key=key,
    )


def faulty(world: World) -> tuple[OrderService, FaultyUnitsOfWork]:
    faults = FaultyUnitsOfWork(world.service.dependencies.unit_of_work)
    return OrderService(
        dataclasses.replace(world.service.dependencies, unit_of_work=faults)
    ), faults


def restart_and_recover(world: World) -> None:
    """What a new process does: deliver what is in the outbox, and once the
    abandoned work is stale, recover it."""
    world.runtime.pump()
    world.clock.advance(STALE)
    world.service.recover(stale_after=STALE)
    world.runtime.pump()


def assert_books_balance(world: World) -> None:
    assert world.service.audit(world.ledger.books()) == []
    balance = world.ledger.balances.get_balance(ALICE)
    assert balance.cash - balance.reserved >= 0
    assert world.ledger.positions.get_position(ALICE, "AAPL").quantity >= 0  # type: ignore[arg-type]


def orders_of(world: World) -> list[UUID]:
    return [details.order_id for details in world.service.get_history(ALICE, limit=100).orders]


# -- the operations, each from a state where it can run ---------------------------------


def op_submit_buy(world: World, service: OrderService) -> None:
    service.submit(order("BUY"))


def op_submit_sell(world: World, service: OrderService) -> None:
    service.submit(order("SELL"))


def op_process_buy(world: World, service: OrderService) -> None:
    service.process(world.service.submit(order("BUY", key="setup")).order_id)


def op_process_sell(world: World, service: OrderService) -> None:
    service.process(world.service.submit(order("SELL", key="setup")).order_id)


def op_cancel_buy(world: World, service: OrderService) -> None:
    receipt = world.service.submit(
        dataclasses.replace(order("BUY", key="setup"), order_type="LIMIT", price="140")
    )
    service.cancel(receipt.order_id, ALICE)


def op_keep_position(world: World, service: OrderService) -> None:
    order_id = world.service.submit(order("SELL", key="setup")).order_id
    world.service.process(order_id)
    service.apply_position_update(order_id)


OPERATIONS = {
    "submit-buy": op_submit_buy,
    "submit-sell": op_submit_sell,
    "process-buy": op_process_buy,
    "process-sell": op_process_sell,
    "cancel-buy": op_cancel_buy,
    "keep-position": op_keep_position,
}


def steps_of(make_world: Callable[[], World], operation: str) -> list[str]:
    world = make_world()
    service, faults = faulty(world)
    OPERATIONS[operation](world, service)
    return sorted(set(faults.seen))


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_crash_at_any_step_leaves_the_books_balanced(
    make_world: Callable[[], World], operation: str
) -> None:
    steps = steps_of(make_world, operation)
    assert "commit" in steps
    crashes = 0
    for step in steps:
        for when in ("before", "after"):
            world = make_world()
            service, faults = faulty(world)
            faults.arm(step, when=when)
            try:
                OPERATIONS[operation](world, service)
            except Crash:
                crashes += 1
            except OrderError:
                pass  # the step's failure was a refusal the caller saw
            restart_and_recover(world)
            if operation.startswith("submit"):
                # The client saw no answer: it sends the same request again.
                retried = world.service.submit(order(operation.split("-")[1].upper()))
                restart_and_recover(world)
                assert orders_of(world) == [retried.order_id], (step, when)
                details = world.order(retried.order_id)
                assert details.status is OrderStatus.EXECUTED, (step, when)
            assert_books_balance(world)
    assert crashes >= len(steps)


def test_recovery_finishes_an_execution_whose_position_was_never_applied(
    make_world: Callable[[], World],
) -> None:
    world = make_world()
    order_id = world.service.submit(order("SELL", quantity="10")).order_id
    world.service.process(order_id)  # executed; the position update is lost with the process
    with world.database.outbox.claim(100) as batch:
        batch.mark_sent()
    assert world.ledger.positions.get_position(ALICE, "AAPL").quantity == Decimal(50)  # type: ignore[arg-type]
    world.clock.advance(STALE)
    report = world.service.recover(stale_after=STALE)
    assert report.positions_applied == (order_id,)
    assert world.ledger.positions.get_position(ALICE, "AAPL").quantity == Decimal(40)  # type: ignore[arg-type]
    assert world.service.recover(stale_after=STALE).positions_applied == ()
    assert_books_balance(world)
