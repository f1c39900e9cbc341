"""Many users with tight cash and holdings, trading at once on PostgreSQL:
BUYs and SELLs (MARKET and LIMIT), each idempotency key sent by two callers at
the same moment, prices moving under them, a daily order limit low enough to
be hit, and then every live order's cancel racing its execution. First with
real threads in one process, then with real processes each wiring its own
service with the composition root.

Afterwards recovery runs and what is left is processed; then the audit is
clean, no cash or holding is negative, every key made at most one order and
both of its callers got the same answer (the same order, or the same typed
refusal), every order is one of those answers, the daily limit held, and no
cancel and execution both won.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import queue
import random
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from order_core import (
    ConcurrencyConflict,
    OrderNotCancellable,
    OrderPolicy,
    OrderService,
    OrderStatus,
    RetryPolicy,
    SubmitOrder,
)
from order_core.errors import InsufficientBalance, InsufficientPosition, OrderRejected
from order_core.policy import RiskPolicy
from order_core.results import ProcessOutcome

D = Decimal
STALE = timedelta(seconds=30)
USERS = [UUID(f"00000000-0000-4000-8000-{n:012x}") for n in range(0xC0, 0xC8)]
#: What each user starts with: cash for two 1-share BUYs of AAPL at 150 (not
#: at 155), or for three (then the position limit stops the third), and two
#: shares of TSLA to sell.
CASH = {user: "300" if index % 2 else "450" for index, user in enumerate(USERS)}
HOLDING = {"TSLA": "2"}
#: Orders a user may place per UTC day: fewer than cash and shares allow.
DAILY_LIMIT = 4
#: The largest holding a BUY may lead to (held, open BUYs and executed BUYs
#: not applied yet): as tight as the cash.
MAX_POSITION = D(2)
PRICES = {"AAPL": "150", "TSLA": "200"}
#: Where the prices wander while orders are submitted: across some LIMITs
#: below, not all (each stays within the 10 % tolerance of every price), and
#: where they go for the race, across all of them.
WANDER = {"AAPL": ["147", "150", "155"], "TSLA": ["195", "200", "205"]}
CROSSING = {"AAPL": "140", "TSLA": "210"}

#: (key, side, type, limit price, callers): the keys each user sends; a key with
#: two callers is sent by both at the same moment.
PLAN = [
    ("b1", "BUY", "MARKET", None, 2),
    ("b2", "BUY", "LIMIT", "146", 2),
    ("b3", "BUY", "MARKET", None, 1),
    ("b4", "BUY", "LIMIT", "148", 1),
    ("b5", "BUY", "MARKET", None, 2),
    ("s1", "SELL", "MARKET", None, 2),
    ("s2", "SELL", "LIMIT", "204", 2),
    ("s3", "SELL", "MARKET", None, 1),
    ("s4", "SELL", "LIMIT", "206", 1),
]

Answer = tuple[str, ...]
"""What one caller was told: ("order", id), ("refused", class, code), or
("unexpected", class, text) for anything a caller should never see."""


def commands(user: UUID) -> Iterator[tuple[str, SubmitOrder, int]]:
    """(key, command, callers) for each of ``user``'s keys."""
    for key, side, order_type, price, callers in PLAN:
        symbol = "AAPL" if side == "BUY" else "TSLA"
        command = SubmitOrder(
            user_id=user,
            symbol=symbol,
            order_type=order_type,
            order_side=side,
            quantity="1",
            price=price,
            idempotency_key=f"{user.hex[-4:]}-{key}",
        )
        yield f"{user}/{key}", command, callers


def place_resting(service: OrderService) -> dict[str, list[Answer]]:
    """One BUY LIMIT per user that no wandering price crosses, placed before
    the rush (it counts towards the daily limit): a cancel races its
    execution later whatever the rush leaves."""
    told: dict[str, list[Answer]] = {}
    for user in USERS:
        command = SubmitOrder(
            user, "AAPL", "LIMIT", "BUY", "1", price="146", idempotency_key=f"{user.hex[-4:]}-r"
        )
        answer = submit(service, command)
        assert answer[0] == "order", answer
        told[f"{user}/r"] = [answer]
    return told


def submission_calls() -> list[tuple[str, SubmitOrder]]:
    """One (key, command) per caller, in a random order."""
    calls = [
        (key, command)
        for user in USERS
        for key, command, callers in commands(user)
        for _ in range(callers)
    ]
    random.shuffle(calls)
    return calls


def submit(service: OrderService, command: SubmitOrder) -> Answer:
    try:
        return ("order", str(service.submit(command).order_id))
    except OrderRejected as refusal:
        return ("refused", type(refusal).__name__, refusal.code)
    except Exception as error:  # reported by the checks, with its traceback
        return ("unexpected", type(error).__name__, traceback.format_exc())


def cancel(service: OrderService, order_id: UUID, user: UUID) -> str:
    try:
        service.cancel(order_id, user)
    except (ConcurrencyConflict, OrderNotCancellable) as lost:
        return lost.code
    except Exception:  # reported by the checks
        return "unexpected: " + traceback.format_exc()
    return "cancelled"


def execute(service: OrderService, order_id: UUID) -> str:
    try:
        return str(service.process(order_id).outcome)
    except Exception:  # reported by the checks
        return "unexpected: " + traceback.format_exc()


def policy() -> OrderPolicy:
    return OrderPolicy(
        risk=RiskPolicy(max_daily_orders=DAILY_LIMIT, max_position_quantity=MAX_POSITION),
        retry=RetryPolicy(delays=(timedelta(milliseconds=5),) * 4),
    )


def open_accounts(ledger: Any) -> None:
    for user in USERS:
        ledger.open_account(user, cash=CASH[user], positions=HOLDING)


def live_orders(service: OrderService) -> list[tuple[UUID, UUID]]:
    """(order id, user) of every PENDING or PROCESSING order."""
    return [
        (details.order_id, user)
        for user in USERS
        for details in service.get_history(user, limit=100).orders
        if details.status in (OrderStatus.PENDING, OrderStatus.PROCESSING)
    ]


# -- the checks ----------------------------------------------------------------------


def check_answers(answers: dict[str, list[Answer]]) -> tuple[Counter[str], dict[str, Any]]:
    """Every caller of a key was told the same order, or a refusal with the
    same code; the refusals counted by code, and the keys whose callers were
    refused with the same code but as different classes (checked last)."""
    unexpected = [a for told in answers.values() for a in told if a[0] == "unexpected"]
    assert not unexpected, "\n".join(a[2] for a in unexpected[:3])
    differing = {
        key: told
        for key, told in answers.items()
        if len({(a[0], a[-1]) for a in told}) != 1  # the order id, or the code
    }
    assert not differing, f"callers of one key were told different things: {differing}"
    classes = {key: told for key, told in answers.items() if len(set(told)) != 1}
    refusals = Counter(told[0][2] for told in answers.values() if told[0][0] == "refused")
    return refusals, classes


def check_races(
    service: OrderService, races: dict[UUID, tuple[list[str], list[str]]], user_of: dict[UUID, UUID]
) -> None:
    """Each order a cancel and executions raced for: never both won, and the
    final status is the winner's."""
    for order_id, (cancels, executions) in races.items():
        odd = [r for r in cancels + executions if r.startswith("unexpected")]
        assert not odd, odd[0]
        status = service.get_details(order_id, user_of[order_id]).status
        cancelled = cancels.count("cancelled")
        executed = executions.count(ProcessOutcome.EXECUTED)
        assert cancelled + executed <= 1, (order_id, cancels, executions)
        if cancelled:
            assert status is OrderStatus.CANCELLED, (order_id, cancels, executions, status)
        if executed:
            assert status is OrderStatus.EXECUTED, (order_id, cancels, executions, status)


def check_books(service: OrderService, ledger: Any, answers: dict[str, list[Answer]]) -> None:
    """The audit is clean, nothing is negative, every order answers a key
    (so no key made two), and the daily and position limits held."""
    books = ledger.books()
    assert service.audit(books) == []
    for book in books:
        assert book.cash >= 0, book
        assert book.reserved >= 0, book
        assert book.cash - book.reserved >= 0, book
        for symbol, (_, quantity) in book.positions.items():
            assert quantity >= 0, (book.user_id, symbol, quantity)
            if book.user_id in USERS:  # (the world's own accounts hold more)
                assert quantity <= MAX_POSITION, (book.user_id, symbol, quantity)
    acknowledged = {told[0][1] for told in answers.values() if told[0][0] == "order"}
    stored: set[str] = set()
    for user in USERS:
        page = service.get_history(user, limit=100)
        assert page.total_count == len(page.orders)
        days = Counter(order.created_at.date() for order in page.orders)
        assert max(days.values(), default=0) <= DAILY_LIMIT, (user, days)
        stored |= {str(order.order_id) for order in page.orders}
        # Shares a user never had were never sold: what is left is what was
        # opened with, less what executed SELLs took, plus executed BUYs.
        executed = Counter[str]()
        for order in page.orders:
            if order.status is OrderStatus.EXECUTED:
                sign = 1 if order.order_side == "BUY" else -1
                executed[order.symbol] += sign * int(order.quantity)
        for symbol, opening in HOLDING.items():
            assert D(opening) + executed[symbol] >= 0, (user, symbol, executed)
    assert stored == acknowledged


# -- threads -------------------------------------------------------------------------


def run_together(targets: Iterable[Callable[[], object]]) -> None:
    """Run every target on its own thread, all released at the same moment."""
    targets = list(targets)
    start = threading.Barrier(len(targets))
    failures: list[BaseException] = []

    def run(target: Callable[[], object]) -> None:
        start.wait()
        try:
            target()
        except BaseException as error:  # a target's own bug: fail the test with it
            failures.append(error)

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    if failures:
        raise failures[0]


@pytest.fixture
def own_postgres() -> Iterator[str]:
    """A PostgreSQL database of the test's own, migrated (its simulator tables
    start empty too); dropped afterwards."""
    from tests.services import need  # noqa: PLC0415
    from tests.sql_databases import temporary_postgres_database  # noqa: PLC0415

    need("PostgreSQL")
    with temporary_postgres_database() as url:
        yield url


@pytest.mark.postgres
def test_threads_trading_on_tight_cash_and_holdings_keep_the_books(own_postgres: str) -> None:
    from order_adapters.sql import SqlDatabase  # noqa: PLC0415
    from tests.conftest import build_world  # noqa: PLC0415

    database = SqlDatabase.from_url(own_postgres)
    try:
        world = build_world(policy(), database=database)
        for symbol, price in PRICES.items():
            world.market.set_price(symbol, price)
        open_accounts(world.ledger)
        service = world.service
        resting = place_resting(service)

        # Submissions: every caller at once, while prices wander and the
        # stored orders are processed as they come.
        calls = submission_calls()
        answers: dict[str, list[Answer]] = {key: [] for key, _ in calls} | resting
        remaining = [len(calls)]
        counting = threading.Lock()
        done = threading.Event()

        def caller(key: str, command: SubmitOrder) -> None:
            answers[key].append(submit(service, command))
            with counting:
                remaining[0] -= 1
                if not remaining[0]:
                    done.set()

        def mover() -> None:
            while not done.is_set():
                for symbol, prices in WANDER.items():
                    world.market.set_price(symbol, random.choice(prices))
                service.sweep()

        def processor() -> None:
            while not done.is_set():
                world.runtime.pump()

        run_together(
            [lambda k=key, c=command: caller(k, c) for key, command in calls] + [mover, processor]
        )

        # Every live order: its cancel races its execution, at prices where
        # every resting LIMIT executes.
        for symbol, price in CROSSING.items():
            world.market.set_price(symbol, price)
        live = live_orders(service)
        races: dict[UUID, tuple[list[str], list[str]]] = {
            order_id: ([], []) for order_id, _ in live
        }
        racers: list[Callable[[], object]] = []
        for order_id, user in live:
            cancels, executions = races[order_id]
            racers.append(lambda o=order_id, u=user, r=cancels: r.append(cancel(service, o, u)))
            racers.append(lambda o=order_id, r=executions: r.append(execute(service, o)))
        racers += [service.sweep, world.runtime.pump]
        run_together(racers)

        # A restart: recovery, then whatever is left is processed.
        world.runtime.pump()
        world.clock.advance(STALE)
        service.recover(stale_after=STALE)
        world.runtime.pump()
        service.sweep()
        world.runtime.pump()

        refusals, classes = check_answers(answers)
        check_races(service, races, dict(live))
        check_books(service, world.ledger, answers)
        assert refusals["DAILY_ORDER_LIMIT_REACHED"], refusals  # the limit was reached
        assert live, "nothing was left to race a cancel against"
        assert not classes, f"a replayed refusal changed its class: {classes}"
    finally:
        database.dispose()


# -- processes -----------------------------------------------------------------------


def aligned_shares(workers: int) -> list[list[tuple[str, SubmitOrder]]]:
    """Every caller of every key, dealt to ``workers`` lists in steps: in each
    step every list gets one call, and a key with two callers goes to two
    lists at the same place."""
    twins: list[tuple[str, SubmitOrder]] = []
    singles: list[tuple[str, SubmitOrder]] = []
    for user in USERS:
        for key, command, callers in commands(user):
            (twins if callers == 2 else singles).append((key, command))
    random.shuffle(twins)
    random.shuffle(singles)
    steps: list[list[tuple[str, SubmitOrder]]] = []
    pairs = workers // 2
    while twins:
        step = [call for call in twins[:pairs] for _ in range(2)]
        del twins[:pairs]
        steps.append(step)
    while singles:
        steps.append(singles[:workers])
        del singles[:workers]
    random.shuffle(steps)
    steps.sort(key=len, reverse=True)  # a short step last: it would misalign the rest
    shares: list[list[tuple[str, SubmitOrder]]] = [[] for _ in range(workers)]
    for step in steps:
        for share, call in zip(random.sample(shares, len(step)), step, strict=False):
            share.append(call)
    return shares


def _service_of(url: str) -> tuple[Any, OrderService, Any]:
    """What a process wires: the runtime, its service with the test's policy,
    and the in-process runner that processes stored orders."""
    from order_adapters.bootstrap import bootstrap  # noqa: PLC0415
    from order_adapters.runners import InProcessProcessing  # noqa: PLC0415
    from order_adapters.settings import Settings  # noqa: PLC0415

    runtime = bootstrap(Settings.of(database_url=url))
    service = OrderService(dataclasses.replace(runtime.service.dependencies, policy=policy()))
    runner = InProcessProcessing(
        service, runtime.database.outbox, runtime.publisher, keep_positions=True
    )
    return runtime, service, runner


def _submitting_worker(
    url: str, calls: list[tuple[str, SubmitOrder]], start: Any, results: Any
) -> None:
    runtime, service, runner = _service_of(url)
    with runtime:
        told = []
        start.wait()
        for key, command in calls:
            told.append((key, submit(service, command)))
            try:
                runner.pump()
            except Exception:  # stored; recovery processes it later
                told.append(("processing", ("unexpected", "pump", traceback.format_exc())))
        results.put(told)


def _moving_worker(url: str, rounds: int, start: Any, results: Any) -> None:
    runtime, service, _ = _service_of(url)
    with runtime:
        start.wait()
        for _ in range(rounds):
            for symbol, prices in WANDER.items():
                runtime.market.set_price(symbol, random.choice(prices))
            service.sweep()
        results.put([])


def _racing_worker(
    url: str, orders: list[tuple[UUID, UUID]], side: str, start: Any, results: Any
) -> None:
    runtime, service, runner = _service_of(url)
    with runtime:
        told = []
        start.wait()
        for order_id, user in orders:
            if side == "cancel":
                told.append((order_id, "cancel", cancel(service, order_id, user)))
            else:
                told.append((order_id, "execute", execute(service, order_id)))
        runner.pump()
        results.put(told)


def _run_processes(context: Any, jobs: list[tuple[Callable[..., None], tuple[Any, ...]]]) -> list:
    """Start each job in a process of its own, released together; what they put."""
    start = context.Barrier(len(jobs))
    results = context.Queue()
    processes = [
        context.Process(target=target, args=(*args, start, results)) for target, args in jobs
    ]
    for process in processes:
        process.start()
    collected: list[Any] = []
    deadline = time.monotonic() + 90
    while len(collected) < len(processes) and time.monotonic() < deadline:
        try:
            collected.append(results.get(timeout=0.5))
        except queue.Empty:
            if not any(process.is_alive() for process in processes):
                break  # one died without its results: its exit code says so below
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    assert [process.exitcode for process in processes] == [0] * len(processes)
    return collected


@pytest.mark.postgres
def test_processes_trading_on_tight_cash_and_holdings_keep_the_books(own_postgres: str) -> None:
    context = multiprocessing.get_context("spawn")
    workers = 4
    url = own_postgres
    runtime, service, runner = _service_of(url)
    with runtime:
        for symbol, price in PRICES.items():
            runtime.market.set_price(symbol, price)
        open_accounts(runtime.ledger)
        resting = place_resting(service)

        # Submissions: the two callers of a key are in different processes,
        # at the same place in each one's list, so they send it together.
        shares = aligned_shares(workers)
        jobs: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
            (_submitting_worker, (url, share)) for share in shares
        ]
        jobs.append((_moving_worker, (url, 40)))
        answers: dict[str, list[Answer]] = defaultdict(list, resting)
        for told in _run_processes(context, jobs):
            for key, answer in told:
                answers[key].append(answer)
        processing_errors = answers.pop("processing", [])
        assert not processing_errors, processing_errors[0][2]

        # Every live order: cancelled in one process while another executes it.
        for symbol, price in CROSSING.items():
            runtime.market.set_price(symbol, price)
        live = live_orders(service)
        races: dict[UUID, tuple[list[str], list[str]]] = {
            order_id: ([], []) for order_id, _ in live
        }
        random.shuffle(live)  # all four go through them in the same order
        jobs = [
            (_racing_worker, (url, live, side))
            for side in ("cancel", "execute", "cancel", "execute")
        ]
        for told in _run_processes(context, jobs):
            for order_id, side, outcome in told:
                races[order_id][0 if side == "cancel" else 1].append(outcome)

        # The parent is the restart: recovery, then what is left.
        runner.pump()
        service.recover(stale_after=timedelta(microseconds=1))
        runner.pump()
        service.sweep()
        runner.pump()

        refusals, classes = check_answers(answers)
        check_races(service, races, dict(live))
        check_books(service, runtime.ledger, answers)
        assert refusals["DAILY_ORDER_LIMIT_REACHED"], refusals
        assert live, "nothing was left to race a cancel against"
        assert not classes, f"a replayed refusal changed its class: {classes}"


# -- what the races above showed, in one thread --------------------------------------


@pytest.mark.parametrize(
    ("side", "quantity", "refusal"),
    [("SELL", "51", InsufficientPosition), ("BUY", "1000", InsufficientBalance)],
)
def test_a_replayed_refusal_is_raised_as_the_class_the_first_caller_saw(
    side: str, quantity: str, refusal: type[OrderRejected]
) -> None:
    """Both callers of a key get the same typed refusal: the one told from the
    key's record too (it was the plain ValidationRejected / RiskRejected of
    the same code, so ``except InsufficientBalance`` missed the replay)."""
    from tests.conftest import ALICE, build_world  # noqa: PLC0415

    world = build_world()
    command = SubmitOrder(ALICE, "AAPL", "MARKET", side, quantity, idempotency_key="too-much")
    with pytest.raises(refusal):
        world.service.submit(command)
    with pytest.raises(refusal):
        world.service.submit(command)  # answered from the key's record
