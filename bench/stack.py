"""The assembled service end to end: ``orders stack`` on PostgreSQL + RabbitMQ
(+ Redis), market data from the simulator over gRPC, driven through the
gateway's API by ``orders load --target``; with, in the same run, the raw
baselines it is measured against:

- the gRPC echo baseline (bench/grpc.py's: one unary echo, same client code);
- the raw PostgreSQL insert+commit rate (bench/sql.py's loop);
- the stack's sustained rate of orders **accepted and executed** (gRPC ->
  PostgreSQL -> outbox -> RabbitMQ -> worker -> PostgreSQL -> positions.updates):
  the highest of a ladder of open-loop rates (MARKET orders) at which every
  order is accepted and executed with its lag after acceptance under 1 s;
- what a closed loop of 32 callers gets accepted;
- submit latency at half that rate, open loop;
- where the CPU went at the sustained rate: each process's CPU seconds.

    python bench/stack.py [--orders 3000] [--concurrency 32] [--workers 2]
                          [--rates 40 60 ...] [--set ORDERS_NAME=VALUE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/grpc.py lives here: this folder must not shadow the grpc package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import uuid  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402

import psutil  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from order_adapters.sql import upgrade  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_RABBITMQ = "amqp://guest:guest@127.0.0.1:5672"
SECRET = "bench-secret-of-at-least-32-bytes-for-hs256"
ORDERS = [sys.executable, "-m", "order_cli.main"]


def _bench_module(name: str) -> ModuleType:
    """bench/<name>.py, loaded by path (its name may shadow a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", _HERE / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(_HERE))  # bench/sql.py imports _service
    try:
        spec.loader.exec_module(module)
    finally:  # (bench/grpc.py takes it out itself)
        if str(_HERE) in sys.path:
            sys.path.remove(str(_HERE))
    return module


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], capture_output=True, timeout=60, check=True)


class Stack:
    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.listen = f"127.0.0.1:{free_port()}"
        simulator = f"127.0.0.1:{free_port()}"
        command = [*ORDERS, "stack", "--listen", self.listen, "--simulator", simulator]
        command += ["--workers", str(workers)]
        self.process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        self.pids: dict[str, int] = {}
        for line in self.process.stdout:
            found = re.search(r"orders stack: (\S+) \(pid (\d+)\)", line)
            if found:
                self.pids[found.group(1)] = int(found.group(2))
            if "orders stack: running" in line:
                break
        else:
            raise SystemExit("orders stack did not start")
        # Keep reading its output, or its children block on a full pipe.
        import threading  # noqa: PLC0415

        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) of each process so far."""
        seconds = {}
        for name, pid in self.pids.items():
            try:
                times = psutil.Process(pid).cpu_times()
                seconds[name] = times.user + times.system
            except psutil.NoSuchProcess:
                seconds[name] = 0.0
        return seconds

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=90)


def server_cpu() -> dict[str, float]:
    """CPU seconds of the machine's PostgreSQL and RabbitMQ processes."""
    seconds: dict[str, float] = {"postgres": 0.0, "rabbitmq": 0.0}
    for process in psutil.process_iter(["name", "cpu_times"]):
        name = process.info["name"] or ""
        times = process.info["cpu_times"]
        if times is None:
            continue
        if name.startswith("postgres"):
            seconds["postgres"] += times.user + times.system
        elif name.startswith("beam"):
            seconds["rabbitmq"] += times.user + times.system
    return seconds


def run_load(env: dict[str, str], listen: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [*ORDERS, "load", "--target", f"grpc://{listen}", "--json", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"orders load failed: {done.stderr.strip()[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def sustained_rate(
    stack: Stack, env: dict[str, str], rates: list[int]
) -> tuple[float, dict[str, float], float]:
    """The highest open-loop rate at which every order is accepted and executed
    with its lag after acceptance under a second; the CPU seconds each process
    used at that rate, and the run's wall time."""
    sustained, used, wall = 0.0, {}, 0.0
    for rate in rates:
        before = {**stack.cpu(), **server_cpu()}
        started = time.perf_counter()
        run = run_load(
            env,
            stack.listen,
            "--rate",
            str(rate),
            "--duration",
            "10",
            "--market-only",
            "--users",
            "200",
            "--seed",
            str(rate),
        )
        took = time.perf_counter() - started
        executed = run["statuses"].get("EXECUTED", 0)
        kept_up = executed == run["requests"] and run["execution_ms"]["p99"] < 1000
        print(
            f"  open loop {rate:4d}/s: executed {executed}/{run['requests']}, lag p99 "
            f"{run['execution_ms']['p99']:.0f} ms -> {'kept up' if kept_up else 'fell behind'}",
            flush=True,
        )
        if not kept_up:
            break
        after = {**stack.cpu(), **server_cpu()}
        sustained, wall = float(rate), took
        used = {name: after[name] - before.get(name, 0.0) for name in after}
    return sustained, used, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--rates", type=int, nargs="+", default=[40, 60, 80, 100, 120, 140, 160, 200, 250]
    )
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--rabbitmq", default=DEFAULT_RABBITMQ)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="ORDERS_NAME=VALUE",
        help="a setting for every process of the stack (repeatable)",
    )
    args = parser.parse_args()

    bench_grpc, bench_sql = _bench_module("grpc"), _bench_module("sql")
    with bench_grpc.echo_server(25) as address:
        echo = bench_grpc.echo_load(address, 8, 1000)

    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    name = f"orders_stack_{uuid.uuid4().hex[:8]}"
    vhost = name
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    database_url = sa.make_url(args.postgres).set(database=name)
    url = database_url.render_as_string(hide_password=False)
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    stack = None
    try:
        upgrade(url)
        raw_samples = bench_sql.raw_baseline(url, 2000)
        raw = len(raw_samples) / (sum(raw_samples) / 1e9)
        # The baseline's rows are PENDING MARKET orders of users without an
        # account: left there, every recovery pass would take them up.
        emptying = sa.create_engine(url)
        with emptying.begin() as connection:
            connection.exec_driver_sql("TRUNCATE orders CASCADE")
        emptying.dispose()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_")}
        env.update(
            ORDERS_DATABASE_URL=url,
            ORDERS_BROKER_URL=f"{args.rabbitmq}/{urllib.parse.quote(vhost, safe='')}",
            ORDERS_REDIS_URL=args.redis,
            ORDERS_REDIS_PREFIX=f"{name}:",
            ORDERS_JWT_SECRET=SECRET,
            ORDERS_DATA_DIR=tempfile.mkdtemp(prefix="orders-stack-bench-"),
        )
        env.update(setting.split("=", 1) for setting in args.set)
        stack = Stack(env, args.workers)
        run_load(env, stack.listen, "--count", "200", "--concurrency", "8", "--seed", "1")  # warm
        sustained, used, wall = sustained_rate(stack, env, args.rates)
        half = max(1.0, sustained / 2)
        opened = (  # nothing kept up: no half of it to measure (report says so)
            run_load(env, stack.listen, "--rate", f"{half:.1f}", "--duration", "10", "--seed", "3")
            if sustained
            else {}
        )
        # Last: the closed loop leaves a processing backlog behind it.
        closed = run_load(
            env,
            stack.listen,
            "--count",
            str(args.orders),
            "--concurrency",
            str(args.concurrency),
            "--seed",
            "2",
            "--market-only",
            "--users",
            "200",
        )
    finally:
        if stack is not None:
            stack.stop()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        rabbitmqctl("delete_vhost", vhost)

    report(args, echo, raw, closed, sustained, opened, wall, used)


def report(  # noqa: PLR0917  # one run's figures, printed together
    args: argparse.Namespace,
    echo: Any,
    raw: float,
    closed: dict[str, Any],
    sustained: float,
    opened: dict[str, Any],
    wall: float,
    used: dict[str, float],
) -> None:
    half = max(1.0, sustained / 2)
    print(
        f"the stack: {args.workers} worker(s), PostgreSQL + RabbitMQ + Redis, market data over gRPC"
    )
    print(f"  gRPC echo baseline (8 threads)      {echo.rate:8,.0f} calls/s  p50 {echo.p50:.2f} ms")
    print(f"  raw PostgreSQL insert+commit        {raw:8,.0f} /s")
    print(
        f"  accepted (closed loop, {args.concurrency} callers)   "
        f"{closed['orders_per_second']:8,.0f} orders/s  p50 {closed['latency_ms']['p50']:.1f} ms"
        f"  p99 {closed['latency_ms']['p99']:.1f} ms"
    )
    if not sustained:
        print(
            f"  accepted and executed, sustained    none of the rates {args.rates} kept up"
            " (start the ladder lower)"
        )
        return
    print(
        f"  accepted and executed, sustained    {sustained:8,.0f} orders/s  (every order executed,"
        " lag after acceptance p99 under 1 s)"
    )
    print(
        f"  at half that rate ({half:.0f}/s, open loop) submit p50 "
        f"{opened['latency_ms']['p50']:.1f} ms  p99 {opened['latency_ms']['p99']:.1f} ms;"
        f" ledger lost {opened['ledger']['lost']} duplicated {opened['ledger']['duplicated']}"
    )
    print(
        f"  ratio to raw insert+commit: {sustained / raw:.2f}; to echo: {sustained / echo.rate:.3f}"
    )
    print(f"  CPU at the sustained rate ({wall:.1f} s wall, 2 cores = {2 * wall:.1f} CPU s):")
    for name, seconds in sorted(used.items(), key=lambda item: -item[1]):
        print(f"    {name:12s} {seconds:6.1f} CPU s  ({100 * seconds / wall:5.1f}% of one core)")
    print(f"    per order: {1000 * sum(used.values()) / (sustained * wall):.1f} CPU ms in these")


if __name__ == "__main__":
    main()
