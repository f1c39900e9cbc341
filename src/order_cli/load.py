"""``orders load``: submit random test orders and report how it went."""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from order_adapters.runtime import Runtime
from order_cli.load_orders import open_accounts, random_orders
from order_cli.options import json_option, whole
from order_cli.output import Printer
from order_cli.state import runs, state
from order_core import OrderError, OrderStatus, SubmitOrder

__all__ = ["load"]

#: Every order is made up front and its latency kept: a bound on what that holds.
MAX_COUNT = 1_000_000


@click.command()
@click.option(
    "--count",
    type=whole(1, MAX_COUNT),
    help="How many orders (with --target, or --rate for --duration).",
)
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=whole(1, 256),
    help="Submitting threads (closed loop: each waits for its answer).",
)
@click.option(
    "--target",
    metavar="grpc://HOST:PORT",
    help="Drive a running `orders serve` over gRPC instead of the library in-process.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1, max=100_000),
    help="With --target: open loop, this many orders per second.",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0.1, max=86_400),
    help="With --rate: for this many seconds.",
)
@click.option(
    "--settle-timeout",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="With --target: seconds to wait for acknowledged orders to end or rest.",
)
@click.option("--seed", type=whole(), help="Repeat a run's order mix exactly.")
@click.option(
    "--market-only", is_flag=True, help="Only MARKET orders (every accepted order executes)."
)
@click.option(
    "--users",
    default=20,
    show_default=True,
    type=whole(1, 1000),
    help="Load-test accounts the orders are spread over (created with ample cash).",
)
@json_option
@runs
def load(
    *,
    count: int | None,
    concurrency: int,
    target: str | None,
    rate: float | None,
    duration: float | None,
    settle_timeout: float,
    seed: int | None,
    market_only: bool,
    users: int,
    as_json: bool,
) -> None:
    """Submit random test orders, then report throughput, latency and how
    every order ended (market, limit and stop orders, both sides).

    With --target, through a running server's gRPC API, open loop at --rate
    for --duration or closed loop with --concurrency; then every receipt is
    checked against the server (lost, duplicated, still in flight)."""
    if rate is not None or duration is not None:
        if target is None:
            raise click.UsageError("--rate and --duration drive a server: give --target too")
        if rate is None or (duration is None and count is None):
            raise click.UsageError("open loop needs --rate and --duration (or --count)")
        count = count or max(1, round(rate * (duration or 0)))
    if count is None:
        raise click.UsageError("say how many orders: --count (or --rate with --duration)")
    if target is not None:
        from order_cli.load_target import load_target  # noqa: PLC0415  # the grpc extra

        load_target(
            target=target,
            count=count,
            concurrency=concurrency,
            rate=rate,
            settle_timeout=settle_timeout,
            seed=seed,
            users=users,
            market_only=market_only,
            as_json=as_json,
        )
        return
    cli_state = state()
    runtime = cli_state.runtime()
    chooser = random.Random(seed)
    accounts = _accounts(runtime, users, seed)
    commands = random_orders(runtime, chooser, accounts, count, market_only=market_only)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    processing_errors: Counter[str] = Counter()
    order_ids: list[uuid.UUID] = []
    lock = threading.Lock()

    def submit(command: SubmitOrder) -> None:
        began = time.perf_counter()
        try:
            receipt = runtime.service.submit(command)
        except OrderError as refused:
            with lock:
                outcomes[f"rejected: {refused.code}"] += 1
        else:
            with lock:
                latencies.append(time.perf_counter() - began)
                order_ids.append(receipt.order_id)
        deferred = cli_state.process_stored()
        if deferred is not None:
            with lock:
                processing_errors[deferred.code] += 1

    started = time.perf_counter()
    with Progress(
        TextColumn("submitting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),  # stdout carries only the report
        disable=as_json,
        transient=True,
    ) as progress:
        task = progress.add_task("orders", total=count)
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for _ in pool.map(submit, commands):
                progress.advance(task)
    cli_state.process_stored()
    elapsed = time.perf_counter() - started
    for order_id, owner in _owners(runtime, order_ids, accounts):
        outcomes[str(runtime.service.get_status(order_id, owner).status)] += 1
    _report(
        as_json=as_json,
        count=count,
        concurrency=concurrency,
        elapsed=elapsed,
        latencies=latencies,
        outcomes=outcomes,
        processing_errors=processing_errors,
    )


def _accounts(runtime: Runtime, users: int, seed: int | None) -> list[uuid.UUID]:
    """The load-test accounts (the same for the same seed), opened when new."""
    namespace = uuid.UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8")
    accounts = [uuid.uuid5(namespace, f"orders-load-{seed}-{n}") for n in range(users)]
    open_accounts(runtime, accounts)
    return accounts


def _owners(
    runtime: Runtime, order_ids: list[uuid.UUID], accounts: list[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    with runtime.service.dependencies.unit_of_work() as uow:
        found = []
        for order_id in order_ids:
            order = uow.orders.get(order_id)
            if order is not None and order.user_id in accounts:
                found.append((order_id, order.user_id))
        return found


def _report(
    *,
    as_json: bool,
    count: int,
    concurrency: int,
    elapsed: float,
    latencies: list[float],
    outcomes: Counter[str],
    processing_errors: Counter[str],
) -> None:
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99

    def quantile(q: float) -> float:
        """The q-th percentile in milliseconds (0 when nothing was submitted)."""
        return cuts[round(q * 100) - 1] * 1000 if cuts else 0.0

    unfinished = outcomes.get(str(OrderStatus.PROCESSING), 0)
    document = {
        "orders": count,
        "concurrency": concurrency,
        "seconds": round(elapsed, 3),
        "orders_per_second": round(count / elapsed, 1),
        "latency_ms": {
            "p50": round(quantile(0.50), 2),
            "p95": round(quantile(0.95), 2),
            "p99": round(quantile(0.99), 2),
            "mean": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
        },
        "outcomes": dict(sorted(outcomes.items())),
        "unfinished": unfinished,
        "processing_errors": dict(sorted(processing_errors.items())),
    }
    out = Printer(as_json)
    if as_json:
        out.json(document)
        return
    out.line(
        f"{count} orders in {elapsed:.2f} s: {count / elapsed:,.1f} orders/s "
        f"with {concurrency} thread(s)"
    )
    out.line(
        f"submit latency: p50 {quantile(0.5):.2f} ms, p95 {quantile(0.95):.2f} ms, "
        f"p99 {quantile(0.99):.2f} ms"
    )
    out.rows("How they ended", ["outcome", "orders"], sorted(outcomes.items()))
    if unfinished:
        out.line(f"{unfinished} order(s) are still PROCESSING")
    for code, times in sorted(processing_errors.items()):
        out.line(f"processing was deferred {times} time(s): {code}")
