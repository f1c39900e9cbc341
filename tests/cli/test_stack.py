"""``orders stack`` as a real process: it starts its children, says where they
listen, restarts one that dies, and stops them all on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.process_output import Output

SECRET = "stack-secret-of-at-least-32-bytes-for-hs256"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_stack_restarts_a_killed_child_and_stops_cleanly(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERS_")}
    env.update({"ORDERS_DATA_DIR": str(tmp_path), "ORDERS_JWT_SECRET": SECRET})
    listen = f"127.0.0.1:{free_port()}"
    command = [sys.executable, "-m", "order_cli.main", "stack", "--no-simulator"]
    process = subprocess.Popen(
        [*command, "--listen", listen],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = Output(process)
    try:
        found = lines.until(r"orders stack: serve \(pid (\d+)\) on (\S+)")
        assert found.group(2) == listen
        lines.until("running")

        os.kill(int(found.group(1)), signal.SIGKILL)
        lines.until(r"\[stack\] serve exited with -9; restarting")
        lines.until(rf"\[serve\] orders: serving .* on {re.escape(listen)}")

        process.send_signal(signal.SIGTERM)
        lines.until(r"orders stack: stopped$", timeout=40)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_a_port_in_use_is_a_clear_error_not_a_restart_loop(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERS_")}
    env.update({"ORDERS_DATA_DIR": str(tmp_path), "ORDERS_JWT_SECRET": SECRET})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        command = [sys.executable, "-m", "order_cli.main", "stack", "--no-simulator"]
        done = subprocess.run(
            [*command, "--listen", listen],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    refusal = f"Error: ORDERS_GRPC_LISTEN: cannot listen on {listen}"
    assert f"serve exited with 2 before it was ready: {refusal}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
