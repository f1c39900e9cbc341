"""The platform's clients against ``orders simulate`` (a real process, an
in-memory database), in one run:

- a raw grpcio unary call (``GetMarketData`` through the generated stub, no
  client layers): the baseline;
- the market-data client's reads for one submission (asset, market open,
  quote) with a cold cache (a new client each time) and a warm one;
- submit + execute with market data, balances and positions all over gRPC
  (an in-memory order database, processed in-process).

Each: calls/s and p50/p99 latency of one operation, one client thread.

    python bench/platform_clients.py [--calls 300]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/grpc.py is in this folder: it must not shadow the grpc package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

import argparse  # noqa: E402
import os  # noqa: E402
import selectors  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402

import grpc  # noqa: E402

from order_adapters.bootstrap import bootstrap  # noqa: E402
from order_adapters.grpc.generated import market_data_service_pb2 as pb  # noqa: E402
from order_adapters.grpc.generated import market_data_service_pb2_grpc as pb_grpc  # noqa: E402
from order_adapters.memory.clock import SystemClock  # noqa: E402
from order_adapters.platform.assets import TradingHoursTable  # noqa: E402
from order_adapters.platform.market_data import GrpcMarketData  # noqa: E402
from order_adapters.platform.resilience import Guard, GuardSettings  # noqa: E402
from order_adapters.runners import InProcessProcessing  # noqa: E402
from order_adapters.settings import Settings  # noqa: E402
from order_adapters.simulated import DEMO_USER  # noqa: E402
from order_core.commands import SubmitOrder  # noqa: E402
from order_core.values import Symbol  # noqa: E402

AAPL = Symbol("AAPL")


def start_simulator(data_dir: str) -> tuple[subprocess.Popen[str], str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERS_")}
    env.update(ORDERS_DATA_DIR=data_dir, ORDERS_DATABASE_URL="memory://")
    process = subprocess.Popen(
        [sys.executable, "-m", "order_cli.main", "simulate", "--listen", "127.0.0.1:0"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    line = ""
    deadline = time.monotonic() + 60
    while "serving" not in line and time.monotonic() < deadline and process.poll() is None:
        if selector.select(timeout=0.5):
            line = process.stdout.readline()
    selector.close()
    if "serving" not in line:
        process.kill()
        raise SystemExit(f"orders simulate did not start: {line!r}")
    return process, line.strip().rpartition(" ")[2]


def measure(name: str, calls: int, operation: Callable[[], object]) -> None:
    for _ in range(min(20, calls)):  # warm up connections and caches
        operation()
    times = []
    started = time.perf_counter()
    for _ in range(calls):
        begun = time.perf_counter()
        operation()
        times.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(times, n=100)
    print(
        f"{name:<46} {calls / elapsed:>9.0f}/s  p50 {cuts[49] * 1000:7.3f} ms"
        f"  p99 {cuts[98] * 1000:7.3f} ms"
    )


def market_client(channel: grpc.Channel) -> GrpcMarketData:
    return GrpcMarketData(
        channel,
        Guard("market data", GuardSettings()),
        clock=SystemClock(),
        hours=TradingHoursTable("00:00-24:00", "UTC"),
        cache_ttl=300.0,
    )


def submission_reads(market: GrpcMarketData) -> None:
    market.get_asset(AAPL)
    market.is_market_open(AAPL)
    market.get_quote(AAPL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory() as data_dir:
        process, address = start_simulator(data_dir)
        try:
            with grpc.insecure_channel(address) as channel:
                grpc.channel_ready_future(channel).result(timeout=10)
                stub = pb_grpc.MarketDataServiceStub(channel)
                request = pb.GetMarketDataRequest(symbol="AAPL")
                measure(
                    "raw grpcio GetMarketData",
                    calls,
                    lambda: stub.GetMarketData(request, timeout=5.0),
                )
                warm = market_client(channel)
                measure(
                    "client quote (GetMarketData, all layers)", calls, lambda: warm.get_quote(AAPL)
                )
                measure(
                    "client submission reads, cold cache",
                    calls,
                    lambda: submission_reads(market_client(channel)),
                )
                measure(
                    "client submission reads, warm cache", calls, lambda: submission_reads(warm)
                )
            url = f"grpc://{address}"
            settings = Settings.of(
                database_url="memory://",
                market_data_url=url,
                balance_url=url,
                positions_url=url,
                market_data_trading_hours="00:00-24:00",
            )
            with bootstrap(settings) as runtime:
                processing = InProcessProcessing.of(runtime)

                def submit_and_execute() -> None:
                    runtime.service.submit(
                        SubmitOrder(
                            user_id=DEMO_USER,
                            symbol="KO",
                            order_type="MARKET",
                            order_side="BUY",
                            quantity="1",
                            # A key each: an identical order without one is a replay.
                            idempotency_key=str(uuid.uuid4()),
                        )
                    )
                    processing.pump()

                measure("submit + execute, all three over gRPC", calls, submit_and_execute)
        finally:
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
