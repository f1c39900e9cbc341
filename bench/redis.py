"""Throughput and latency of the Redis idempotency store against raw Redis.

Against a real Redis, in one thread: each iteration of the store loop claims a
fresh key and completes it, ``begin`` (``SET NX PX``) then ``finish`` (one
``EVALSHA``), so one *pair* is two round trips plus JSON encoding. The
baseline loop sends plain ``SET key value NX PX 86400000`` with a payload as
long as the completed record's document: one round trip, nothing encoded. Both
loops use unique keys and alternate over the rounds; the ratio compares store
pairs per second with raw SETs per second. Every key is deleted afterwards.

    python bench/redis.py [--n 20000] [--rounds 3] [--url redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named redis.py, and Python puts the script's directory first on
# sys.path: drop it, or ``import redis`` would import this file.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import redis

from order_adapters.redis import RedisIdempotencyStore
from order_adapters.wire import record_to_json
from order_core import OrderStatus, SubmitReceipt
from order_core.records import IdempotencyRecord

DEFAULT_URL = os.environ.get("ORDERS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TTL = timedelta(hours=24)
USER = UUID("00000000-0000-4000-8000-00000000a11c")


def claim_and_done(key: str, now: datetime) -> tuple[IdempotencyRecord, IdempotencyRecord]:
    claim = IdempotencyRecord.pending(
        key=f"{USER}:{key}",
        user_id=USER,
        fingerprint="v1|AAPL|LIMIT|BUY|10.00000000|150.00000000|",
        token=uuid.uuid4().hex,
        now=now,
        ttl=TTL,
    )
    receipt = SubmitReceipt(
        order_id=uuid.uuid4(),
        status=OrderStatus.PENDING,
        estimated_price=Decimal("150.00000000"),
        estimated_value=Decimal("1500.00000000"),
        market_price=Decimal("149.98000000"),
        submitted_at=now,
    )
    return claim, claim.completed(receipt)


def store_loop(store: RedisIdempotencyStore, label: str, n: int) -> list[int]:
    """Nanoseconds per begin+finish pair. Records are built outside the timing."""
    samples: list[int] = []
    clock = time.perf_counter_ns
    for i in range(n):
        claim, done = claim_and_done(f"{label}-{i}", datetime.now(UTC))
        started = clock()
        if store.begin(claim) is not None or not store.finish(done):
            raise RuntimeError(f"key {claim.key} was not free")
        samples.append(clock() - started)
    return samples


def raw_loop(client: redis.Redis, prefix: str, payload: str, n: int) -> list[int]:
    """Nanoseconds per plain SET NX PX of a payload the size of a record."""
    samples: list[int] = []
    clock = time.perf_counter_ns
    for i in range(n):
        key = f"{prefix}raw:{i}"
        started = clock()
        if not client.set(key, payload, nx=True, px=86_400_000):
            raise RuntimeError(f"key {key} was not free")
        samples.append(clock() - started)
    return samples


def delete_prefix(client: redis.Redis, prefix: str) -> int:
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=prefix + "*", count=1000):
        batch.append(key)
        if len(batch) == 500:
            deleted += client.delete(*batch)
            batch.clear()
    if batch:
        deleted += client.delete(*batch)
    return deleted


def report(name: str, unit: str, samples: list[int], seconds: float) -> float:
    rate = len(samples) / seconds
    cuts = statistics.quantiles(samples, n=100)
    print(
        f"{name:<32} {rate:>9,.0f} {unit}/s   p50 {cuts[49] / 1000:6.1f} us"
        f"   p99 {cuts[98] / 1000:6.1f} us"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="iterations per loop per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", default=DEFAULT_URL)
    options = parser.parse_args()

    prefix = f"orders:bench:{uuid.uuid4().hex[:12]}:"
    store = RedisIdempotencyStore.from_url(options.url, prefix=prefix)
    # The baseline gets the same kind of pool as the store (blocking, 50
    # connections, 0.5 s timeouts), so the ratio shows what the store adds.
    client = redis.Redis.from_pool(
        redis.BlockingConnectionPool.from_url(
            options.url, max_connections=50, socket_timeout=0.5, socket_connect_timeout=0.5
        )
    )
    _, sample = claim_and_done("size", datetime.now(UTC))
    payload = "x" * len(record_to_json(sample))
    timed: dict[str, tuple[list[int], float]] = {"store": ([], 0.0), "raw": ([], 0.0)}

    def run(name: str, loop: Callable[[], list[int]]) -> None:
        started = time.perf_counter()
        samples = loop()
        samples_so_far, seconds = timed[name]
        timed[name] = (samples_so_far + samples, seconds + time.perf_counter() - started)

    try:
        store_loop(store, "warm", 1000)  # connections, script loading, code paths
        raw_loop(client, prefix + "warm", payload, 1000)
        for round_ in range(options.rounds):
            n = options.n
            run("store", lambda r=round_, n=n: store_loop(store, f"r{r}", n))
            run("raw", lambda r=round_, n=n: raw_loop(client, f"{prefix}r{r}", payload, n))
            delete_prefix(client, prefix)  # keep the server's memory flat between rounds
    finally:
        delete_prefix(client, prefix)
        store.close()
        client.close()

    print(
        f"Redis at {options.url}, one thread, {options.rounds} rounds x {options.n:,} "
        f"per loop, record document {len(payload)} bytes"
    )
    store_rate = report("store begin+finish (2 trips)", "pairs", *timed["store"])
    raw_rate = report("raw SET NX PX 86400000 (1 trip)", "SETs", *timed["raw"])
    print(
        f"ratio store/raw = {store_rate / raw_rate:.2f} "
        "(begin+finish pairs per second / raw SETs per second)"
    )


if __name__ == "__main__":
    main()
