"""A soak: ``orders stack`` under a modest open-loop load for a long while, with
each process's resident memory and open file descriptors printed at the
start and at the end (they should stay flat), and the load's own ledger.

Runs on whatever the ``ORDERS_*`` settings name (the embedded default when
none); ``ORDERS_JWT_SECRET`` is set for the run if missing.

    python bench/soak.py [--rate 50] [--duration 600] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import psutil

ORDERS = [sys.executable, "-m", "order_cli.main"]
SECRET = "soak-secret-of-at-least-32-bytes-for-hs256"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sample(pids: dict[str, int]) -> dict[str, tuple[float, int]]:
    """(RSS in MiB, open file descriptors) of each process."""
    found = {}
    for name, pid in pids.items():
        try:
            process = psutil.Process(pid)
            found[name] = (process.memory_info().rss / 2**20, process.num_fds())
        except psutil.NoSuchProcess:
            found[name] = (0.0, 0)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    env = dict(os.environ)
    env.setdefault("ORDERS_JWT_SECRET", SECRET)
    data_dir = tempfile.mkdtemp(prefix="orders-soak-")
    env.setdefault("ORDERS_DATA_DIR", data_dir)
    listen = f"127.0.0.1:{free_port()}"
    simulator = f"127.0.0.1:{free_port()}"
    stack = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "order_cli.main",
            "stack",
            "--listen",
            listen,
            "--simulator",
            simulator,
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert stack.stdout is not None
    pids: dict[str, int] = {"stack": stack.pid}
    for line in stack.stdout:
        found = re.search(r"orders stack: (\S+) \(pid (\d+)\)", line)
        if found:
            pids[found.group(1)] = int(found.group(2))
        if "running" in line:
            break
    try:
        time.sleep(2)
        before = sample(pids)
        load = subprocess.run(
            [
                sys.executable,
                "-m",
                "order_cli.main",
                "load",
                "--target",
                f"grpc://{listen}",
                "--rate",
                str(args.rate),
                "--duration",
                str(args.duration),
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        after = sample(pids)
    finally:
        stack.terminate()
        stack.wait(timeout=60)
    print(f"soak: {args.rate:g} orders/s for {args.duration:g} s through {listen}")
    print(
        f"  {'process':12s} {'RSS start':>10s} {'RSS end':>10s} {'fds start':>10s} {'fds end':>8s}"
    )
    for name in pids:
        (rss0, fds0), (rss1, fds1) = before[name], after[name]
        print(f"  {name:12s} {rss0:8.1f} MiB {rss1:7.1f} MiB {fds0:10d} {fds1:8d}")
    if load.returncode not in (0, 1):
        print(load.stderr)
        raise SystemExit(load.returncode)
    report: dict[str, Any] = json.loads(load.stdout)
    ledger = report["ledger"]
    print(
        f"  load: {report['acknowledged']} acknowledged, latency p50 "
        f"{report['latency_ms']['p50']} ms p99 {report['latency_ms']['p99']} ms; "
        f"lost {ledger['lost']}, duplicated {ledger['duplicated']}, "
        f"in flight {ledger['in_flight']}"
    )
    print(json.dumps({"before": before, "after": after}, indent=None))


if __name__ == "__main__":
    main()
