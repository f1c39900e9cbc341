"""The gRPC OrderService under load, against a raw grpcio baseline measured in
the same run.

The baseline is a tiny grpcio server of the bench's own (in a process of its
own, as ``orders serve`` is): one unary method that echoes its bytes back (a
SubmitOrderRequest's size), the same thread pool size as ``orders serve``'s
default (25), the same client code. Then
SubmitOrder through ``orders serve`` (a real process, tokens checked) on the
embedded default (SQLite in a temporary data directory) and on PostgreSQL (a
temporary database created, migrated and dropped by the bench). Each with 1
and 8 client threads: calls/s, p50/p99 latency, and the ratio of calls/s to
the echo baseline with the same number of threads.

    python bench/grpc.py [--calls 400] [--postgres URL] [--skip-postgres]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named grpc.py: its folder must not shadow the grpc package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

import argparse  # noqa: E402
import os  # noqa: E402
import selectors  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from concurrent import futures  # noqa: E402
from contextlib import contextmanager  # noqa: E402

import grpc  # noqa: E402
import jwt  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from order_adapters.grpc.generated import order_service_pb2 as pb  # noqa: E402
from order_adapters.grpc.generated import order_service_pb2_grpc as pb_grpc  # noqa: E402
from order_adapters.sql import upgrade  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET = "bench-secret-of-at-least-32-bytes-for-hs256"
THREADS = (1, 8)
ECHO_METHOD = "/bench.Echo/Echo"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Result:
    def __init__(self, name: str, threads: int, seconds: float, samples: list[float], errors: int):
        self.name = name
        self.threads = threads
        self.rate = len(samples) / seconds
        self.p50 = percentile(samples, 0.50) * 1000
        self.p99 = percentile(samples, 0.99) * 1000
        self.mean = statistics.fmean(samples) * 1000
        self.errors = errors

    def line(self, baseline: Result | None) -> str:
        ratio = f"{self.rate / baseline.rate:6.3f}" if baseline else "     -"
        return (
            f"{self.name:<28} {self.threads:>2} thr  {self.rate:9.0f} calls/s  "
            f"p50 {self.p50:7.3f} ms  p99 {self.p99:7.3f} ms  x echo {ratio}  "
            f"errors {self.errors}"
        )


def load(
    name: str, threads: int, calls: int, make: Callable[[int], Callable[[int], None]]
) -> Result:
    """``calls`` calls per thread; ``make(thread)`` gives the thread's call."""
    samples: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    ready = threading.Barrier(threads + 1)

    def run(index: int) -> None:
        call = make(index)
        call(-1)  # warm: the channel and (for orders) the user's account
        ready.wait()
        own = samples[index]
        for n in range(calls):
            started = time.perf_counter()
            try:
                call(n)
            except grpc.RpcError:
                errors[index] += 1
                continue
            own.append(time.perf_counter() - started)

    workers = [threading.Thread(target=run, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    return Result(name, threads, seconds, [s for own in samples for s in own], sum(errors))


# -- the echo baseline ------------------------------------------------------------------


def serve_echo(workers: int) -> None:
    """The baseline's server (``--echo-server``): prints its address, serves until
    stdin closes. A process of its own, as ``orders serve`` is, so the clients
    do not share its interpreter lock."""

    def echo(request: bytes, _context: grpc.ServicerContext) -> bytes:
        return request

    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"serving 127.0.0.1:{port}", flush=True)
    sys.stdin.read()
    server.stop(None)


@contextmanager
def echo_server(workers: int) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--echo-server", str(workers)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdin is not None
    line = process.stdout.readline()
    if "serving" not in line:
        process.kill()
        raise SystemExit(f"the echo server did not start: {line!r}")
    try:
        yield line.strip().rpartition(" ")[2]
    finally:
        process.stdin.close()
        process.wait(timeout=10)


def echo_load(address: str, threads: int, calls: int) -> Result:
    # About the size of a SubmitOrderRequest and its response.
    payload = pb.SubmitOrderRequest(
        user_id="1001", symbol="AAPL", order_type="MARKET", order_side="BUY", quantity=1
    ).SerializeToString()

    def make(_index: int) -> Callable[[int], None]:
        channel = grpc.insecure_channel(address)
        echo = channel.unary_unary(ECHO_METHOD)

        def call(_n: int) -> None:
            echo(payload, timeout=10)

        return call

    return load("raw grpcio echo", threads, calls, make)


# -- orders serve ----------------------------------------------------------------------


@contextmanager
def orders_serve(data_dir: Path, settings: dict[str, str]) -> Iterator[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERS_")}
    env.update(ORDERS_DATA_DIR=str(data_dir), ORDERS_JWT_SECRET=SECRET, **settings)
    process = subprocess.Popen(
        [sys.executable, "-m", "order_cli.main", "serve", "--listen", "127.0.0.1:0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    line = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None and "serving" not in line:
        if selector.select(timeout=0.5):
            line = process.stdout.readline()
    selector.close()
    if "serving" not in line:
        process.kill()
        raise SystemExit(f"orders serve did not start: {line!r}")
    try:
        yield line.strip().rpartition(" ")[2]
    finally:
        process.terminate()
        process.wait(timeout=40)


def submit_load(name: str, address: str, threads: int, calls: int) -> Result:
    run = uuid.uuid4().int % 10**6

    def make(index: int) -> Callable[[int], None]:
        # A user per thread; BUY and SELL alternate so cash and holdings last.
        user = str(run * 100 + index + threads * 10)
        token = jwt.encode(
            {"username": f"u{user}@example.com", "userId": user, "exp": int(time.time()) + 3600},
            SECRET,
            algorithm="HS256",
        )
        metadata = (("authorization", f"Bearer {token}"),)
        stub = pb_grpc.OrderServiceStub(grpc.insecure_channel(address))
        requests = [
            pb.SubmitOrderRequest(
                user_id=user, symbol="AAPL", order_type="MARKET", order_side=side, quantity=1
            )
            for side in ("BUY", "SELL")
        ]

        def call(n: int) -> None:
            stub.SubmitOrder(requests[n % 2], timeout=10, metadata=metadata)

        return call

    return load(name, threads, calls, make)


@contextmanager
def temporary_postgres(admin_url: str) -> Iterator[str]:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"orders_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="calls per thread")
    parser.add_argument(
        "--postgres", default=os.environ.get("ORDERS_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--echo-server", type=int, metavar="WORKERS", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.echo_server:
        serve_echo(options.echo_server)
        return
    calls: int = options.calls

    print(f"python {sys.version.split()[0]}, grpcio {grpc.__version__}, {calls} calls per thread")
    baselines: dict[int, Result] = {}
    with echo_server(workers=25) as address:
        for threads in THREADS:
            baselines[threads] = echo_load(address, threads, calls)
            print(baselines[threads].line(None), flush=True)

    with tempfile.TemporaryDirectory(prefix="orders-bench-") as data:
        with orders_serve(Path(data), {}) as address:
            for threads in THREADS:
                result = submit_load("SubmitOrder, embedded", address, threads, calls)
                print(result.line(baselines[threads]), flush=True)
        if not options.skip_postgres:
            with temporary_postgres(options.postgres) as url:
                settings = {"ORDERS_DATABASE_URL": url}
                with orders_serve(Path(data) / "pg", settings) as address:
                    for threads in THREADS:
                        result = submit_load("SubmitOrder, PostgreSQL", address, threads, calls)
                        print(result.line(baselines[threads]), flush=True)


if __name__ == "__main__":
    main()
