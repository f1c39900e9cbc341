"""Throughput and latency of the domain core with the in-memory adapters.

Submits MARKET orders (half BUY, half SELL, client idempotency keys, 200
users, 10 symbols) through ``OrderService.submit`` and executes each through
``OrderService.process``, timing every call. After each batch the outbox is
relayed to the in-process broker, where the position keeper applies every
execution; that is timed too and reported on its own line, and in an
end-to-end figure. The headline is orders submitted *and* executed per second
in one thread: orders / (time in submit + time in process).

    python bench/core.py [--orders 50000] [--batch 100]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from uuid import UUID

from _service import trading_service  # bench/ is the script's folder

from order_adapters.memory import (
    InMemoryDatabase,
    InProcessBroker,
    SystemClock,
)
from order_adapters.topology import POSITIONS_QUEUE
from order_core import (
    OrderExecuted,
    OrderService,
    OrderStatus,
    OutboxMessage,
    SubmitOrder,
    relay_outbox,
)

SYMBOLS = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA", "JPM", "V", "KO"]
USERS = 200


def build() -> tuple[OrderService, InMemoryDatabase, InProcessBroker, list[UUID]]:
    clock = SystemClock()
    database = InMemoryDatabase()
    service, ledger, users = trading_service(database, symbols=SYMBOLS, users=USERS, clock=clock)
    broker = InProcessBroker(clock)

    def keep_positions(message: OutboxMessage, _retries: int) -> None:
        assert isinstance(message.event, OrderExecuted)
        ledger.apply_execution(message.event)

    broker.subscribe(POSITIONS_QUEUE, keep_positions)
    return service, database, broker, users


def commands(users: list[UUID], start: int, count: int) -> list[SubmitOrder]:
    return [
        SubmitOrder(
            user_id=users[n % USERS],
            symbol=SYMBOLS[n % len(SYMBOLS)],
            order_type="MARKET",
            order_side="BUY" if n % 2 else "SELL",
            quantity=str(1 + n % 5),
            idempotency_key=f"bench-{n}",
        )
        for n in range(start, start + count)
    ]


def percentile(samples: list[int], fraction: float) -> float:
    """The sample at ``fraction`` of the sorted run, in microseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1000


@dataclass
class Round:
    submit_ns: list[int]
    process_ns: list[int]
    relay_ns: int
    executed: int

    @property
    def submit_and_process_rate(self) -> float:
        return len(self.submit_ns) / ((sum(self.submit_ns) + sum(self.process_ns)) / 1e9)


def run_round(total: int, batch: int) -> Round:
    """One fresh service: warm up, then submit and process ``total`` orders."""
    service, database, broker, users = build()
    clock = time.perf_counter_ns
    measured = Round([], [], 0, 0)
    warmup = min(2000, total // 10)
    for start in range(0, warmup + total, batch):
        measuring = start >= warmup
        receipts = []
        for command in commands(users, start, batch):
            began = clock()
            receipts.append(service.submit(command))
            if measuring:
                measured.submit_ns.append(clock() - began)
        for receipt in receipts:
            began = clock()
            result = service.process(receipt.order_id)
            if measuring:
                measured.process_ns.append(clock() - began)
                measured.executed += result.status is OrderStatus.EXECUTED
        began = clock()
        while relay_outbox(database.outbox, broker, batch_size=500):
            broker.deliver()
        if measuring:
            measured.relay_ns += clock() - began
    return measured


def report(rounds: list[Round]) -> None:
    rates = sorted(r.submit_and_process_rate for r in rounds)
    median = sorted(rounds, key=lambda r: r.submit_and_process_rate)[len(rounds) // 2]
    orders = len(median.submit_ns)
    submit_s, process_s = sum(median.submit_ns) / 1e9, sum(median.process_ns) / 1e9
    relay_s = median.relay_ns / 1e9
    print(f"{len(rounds)} rounds of {orders} orders each; the median round:")
    print(f"executed {median.executed} of {orders}")
    for name, samples, seconds in (
        ("submit", median.submit_ns, submit_s),
        ("process", median.process_ns, process_s),
    ):
        print(
            f"{name:8s} {orders / seconds:9,.0f} orders/s   "
            f"p50 {percentile(samples, 0.50):6.1f} us   p99 {percentile(samples, 0.99):6.1f} us   "
            f"mean {statistics.fmean(samples) / 1000:6.1f} us"
        )
    print(f"relay    {relay_s / orders * 1e6:6.1f} us per order (outbox -> broker -> positions)")
    print(
        f"submitted and executed: {orders / (submit_s + process_s):,.0f} orders/s in one thread"
        f" (end to end with the relay: {orders / (submit_s + process_s + relay_s):,.0f})"
    )
    print("every round: " + ", ".join(f"{rate:,.0f}" for rate in rates) + " orders/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    report([run_round(arguments.orders, arguments.batch) for _ in range(arguments.rounds)])


if __name__ == "__main__":
    main()
