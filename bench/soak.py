"""A soak: ``orders stack`` under a modest open-loop load for a long while, with
each process's resident memory and open file descriptors sampled every minute
(after the first minute's warm-up, pools filled, they should stay flat), and
the load's own ledger.

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
    samples: list[tuple[float, dict[str, tuple[float, int]]]] = []
    try:
        time.sleep(2)
        began = time.monotonic()
        command = [*ORDERS, "load", "--target", f"grpc://{listen}", "--rate", str(args.rate)]
        command += ["--duration", str(args.duration), "--json"]
        load_process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        samples.append((0.0, sample(pids)))
        while load_process.poll() is None:
            time.sleep(1)
            elapsed = time.monotonic() - began
            if elapsed - samples[-1][0] >= 60:
                samples.append((elapsed, sample(pids)))
        out, err = load_process.communicate()
        samples.append((time.monotonic() - began, sample(pids)))
    finally:
        stack.terminate()
        stack.wait(timeout=60)
    print(f"soak: {args.rate:g} orders/s for {args.duration:g} s through {listen}")
    print("  RSS in MiB / open file descriptors, per process, each minute:")
    print("  " + " " * 12 + "".join(f"{at / 60:>11.0f}m" for at, _ in samples))
    for name in pids:
        cells = "".join(f"{found[name][0]:>7.1f}/{found[name][1]:<4d}" for _, found in samples)
        print(f"  {name:12s}{cells}")
    if load_process.returncode not in (0, 1):
        print(err)
        raise SystemExit(load_process.returncode)
    report: dict[str, Any] = json.loads(out)
    ledger = report["ledger"]
    print(
        f"  load: {report['acknowledged']} acknowledged, latency p50 "
        f"{report['latency_ms']['p50']} ms p99 {report['latency_ms']['p99']} ms; "
        f"lost {ledger['lost']}, duplicated {ledger['duplicated']}, "
        f"in flight {ledger['in_flight']}"
    )


if __name__ == "__main__":
    main()
