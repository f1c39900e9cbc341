"""``orders simulate`` as a real process on a free port, the platform's
clients pointed at it, and the simulator's control service to make it slow
or failing."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc  # the grpc extra: without it, ../conftest.py leaves this suite out
import pytest

from order_adapters.grpc.generated import simulator_control_pb2 as control_pb
from order_adapters.grpc.generated import simulator_control_pb2_grpc as control_grpc
from order_adapters.memory.clock import SystemClock
from order_adapters.platform.accounts import GrpcBalances, GrpcPositions
from order_adapters.platform.assets import TradingHoursTable
from order_adapters.platform.market_data import GrpcMarketData
from order_adapters.platform.resilience import Guard, GuardSettings

#: Every call the tests make themselves has a deadline.
DEADLINE = 10.0


def clean_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERS_")}
    env["ORDERS_DATA_DIR"] = str(data_dir)
    env.update(settings)
    return env


class Simulator:
    """A running ``orders simulate``."""

    def __init__(self, process: subprocess.Popen[str], address: str, data_dir: Path) -> None:
        self.process = process
        self.address = address
        self.url = f"grpc://{address}"
        self.data_dir = data_dir
        self._channel = grpc.insecure_channel(address)
        self._control = control_grpc.SimulatorControlStub(self._channel)

    def faults(
        self,
        *,
        service: str = "",
        delay: float = 0.0,
        fail: grpc.StatusCode | None = None,
        count: int = 0,
        like_deployed: bool = False,
    ) -> dict[str, int]:
        """Set the faults (all cleared by default); calls served per method so far."""
        reply = self._control.SetFaults(
            control_pb.Faults(
                service=service,
                delay_seconds=delay,
                fail_code=fail.value[0] if fail is not None else 0,
                fail_count=count,
                asset_details_unimplemented=like_deployed,
                float32_prices=like_deployed,
            ),
            timeout=DEADLINE,
        )
        return dict(reply.calls)

    def calls(self, method: str) -> int:
        reply = self._control.SetFaults(control_pb.Faults(), timeout=DEADLINE)
        return int(reply.calls.get(method, 0))

    def stop(self) -> int:
        self._channel.close()
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise


def start_simulator(data_dir: Path, *extra: str, **settings: str) -> Simulator:
    command = [
        sys.executable,
        "-m",
        "order_cli.main",
        "simulate",
        "--listen",
        "127.0.0.1:0",
        *extra,
    ]
    process = subprocess.Popen(
        command,
        env=clean_env(data_dir, **settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + 60
    line = ""
    while time.monotonic() < deadline and process.poll() is None:
        if selector.select(timeout=0.5):
            line = process.stdout.readline()
            if "serving" in line:
                break
    selector.close()
    if "serving" not in line:
        process.kill()
        _, errors = process.communicate(timeout=10)
        raise AssertionError(f"orders simulate did not start: {line!r} {errors}")
    return Simulator(process, line.strip().rpartition(" ")[2], data_dir)


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    # An in-memory database: the simulator's state lives as long as the process.
    sim = start_simulator(tmp_path_factory.mktemp("simulator"), ORDERS_DATABASE_URL="memory://")
    yield sim
    assert sim.stop() == 0


@pytest.fixture
def healthy(simulator: Simulator) -> Simulator:
    """The simulator with every fault cleared."""
    simulator.faults()
    return simulator


@pytest.fixture
def channel(simulator: Simulator) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(simulator.address) as opened:
        grpc.channel_ready_future(opened).result(timeout=DEADLINE)
        yield opened


def guard(name: str = "test", **settings: float) -> Guard:
    values: dict[str, float] = {"deadline": 2.0, "backoff": 0.01, "breaker_reset": 30.0}
    values.update(settings)
    return Guard(
        name,
        GuardSettings(
            deadline=values["deadline"],
            attempts=int(values.get("attempts", 3)),
            backoff=values["backoff"],
            breaker_failures=int(values.get("breaker_failures", 5)),
            breaker_reset=values["breaker_reset"],
        ),
    )


def market_client(
    channel: grpc.Channel, *, ttl: float = 300.0, **settings: float
) -> GrpcMarketData:
    return GrpcMarketData(
        channel,
        guard("market data", **settings),
        clock=SystemClock(),
        hours=TradingHoursTable("00:00-24:00", "UTC"),
        cache_ttl=ttl,
    )


def balance_client(channel: grpc.Channel, **settings: float) -> GrpcBalances:
    return GrpcBalances(channel, guard("balance", **settings))


def position_client(channel: grpc.Channel, **settings: float) -> GrpcPositions:
    return GrpcPositions(channel, guard("positions", **settings))
