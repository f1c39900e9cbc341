"""``orders serve`` as a real process, and a client generated at test time from
the seed's proto (``seed/``, nothing added), with tokens minted as the
platform's user service mints them (HS256; ``username``, ``userId``, ``exp``).

The server's own stubs are never imported here: the seed's messages have the
same names and would clash in protobuf's default descriptor pool."""

from __future__ import annotations

import importlib
import os
import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

grpc = pytest.importorskip("grpc")
protoc = pytest.importorskip("grpc_tools.protoc")
jwt = pytest.importorskip("jwt")

SECRET = "test-secret-shared-with-the-platform"
SEED = Path(__file__).parent / "seed"
#: Every call in these tests has a deadline.
DEADLINE = 10.0


@dataclass(frozen=True)
class Seed:
    pb: ModuleType
    pb_grpc: ModuleType
    common: ModuleType


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    out = tmp_path_factory.mktemp("seed_stubs")
    for proto in SEED.glob("*.proto"):
        shutil.copy(proto, out / proto.name)
    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{out}",
            f"-I{include}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            "common.proto",
            "order_service.proto",
        ]
    )
    assert code == 0
    sys.path.insert(0, str(out))
    return Seed(
        pb=importlib.import_module("order_service_pb2"),
        pb_grpc=importlib.import_module("order_service_pb2_grpc"),
        common=importlib.import_module("common_pb2"),
    )


def mint(user_id: str, *, secret: str = SECRET, expires_in: float = 600) -> str:
    """A token as the platform mints it."""
    claims = {
        "username": f"user{user_id}@example.com",
        "userId": user_id,
        "exp": int(time.time() + expires_in),
    }
    return str(jwt.encode(claims, secret, algorithm="HS256"))


def gateway_metadata(user_id: str, token: str | None = None) -> list[tuple[str, str]]:
    """The metadata the platform's gateway sends with every call."""
    return [
        ("authorization", f"Bearer {token if token is not None else mint(user_id)}"),
        ("x-user-id", user_id),
        ("x-user-email", f"user{user_id}@example.com"),
        ("x-forwarded-method", "POST"),
        ("x-forwarded-path", "/api/v1/orders"),
        ("x-original-uri", "/api/v1/orders"),
    ]


class Served:
    """A running ``orders serve`` process."""

    def __init__(self, process: subprocess.Popen[str], address: str) -> None:
        self.process = process
        self.address = address

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=35)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise


def start_server(
    data_dir: Path,
    *extra: str,
    secret: str | None = SECRET,
    settings: dict[str, str] | None = None,
) -> Served:
    """``orders serve`` on ``data_dir`` with ``settings`` (``ORDERS_*`` variables)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERS_")}
    env["ORDERS_DATA_DIR"] = str(data_dir)
    env.update(settings or {})
    if secret is not None:
        env["ORDERS_JWT_SECRET"] = secret
    command = [sys.executable, "-m", "order_cli.main", "serve", "--listen", "127.0.0.1:0", *extra]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
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
        raise AssertionError(f"orders serve did not start: {line!r} {errors}")
    return Served(process, line.strip().rpartition(" ")[2])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_server(tmp_path_factory.mktemp("orders_data"))
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def channel(served: Served) -> Iterator[Any]:
    with grpc.insecure_channel(served.address) as opened:
        grpc.channel_ready_future(opened).result(timeout=DEADLINE)
        yield opened


@pytest.fixture(scope="module")
def stub(seed: Seed, channel: Any) -> Any:
    return seed.pb_grpc.OrderServiceStub(channel)
