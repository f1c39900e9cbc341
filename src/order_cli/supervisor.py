"""Child processes kept running: started in order, each one's output passed
through with its name in front, restarted (with a growing pause) when it dies,
and stopped in reverse order, each given time to finish before it is killed.

Why not a process manager (supervisord, honcho): ``orders stack`` must run on a
fresh machine with nothing but this package, stop cleanly on Ctrl-C, and know
when a server is ready by the address it prints, which those tools do not do.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Child", "ChildFailed", "Supervisor"]

#: A line a server prints once it listens: "... serving ... on HOST:PORT".
_LISTENING = re.compile(r"\b(?:serving|listening)\b.*?\bon\s+(\S+:\d+)\s*$", re.IGNORECASE)


class ChildFailed(RuntimeError):
    """A child could not be started (it exited, or never said it listens)."""


@dataclass(slots=True)
class Child:
    """One supervised process: ``orders <arguments>``."""

    name: str
    arguments: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    #: Wait for a "serving ... on HOST:PORT" line before starting the next child.
    announces_address: bool = False
    address: str | None = None
    process: subprocess.Popen[str] | None = None
    restarts: int = 0
    started_at: float = 0.0
    ready: threading.Event = field(default_factory=threading.Event)
    last_line: str = ""


class Supervisor:
    """Runs children until :meth:`stop`; ``echo`` receives every line printed."""

    def __init__(self, children: Sequence[Child], echo: Callable[[str], None]) -> None:
        self.children = list(children)
        self._echo = echo
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self, ready_within: float = 60.0) -> None:
        """Start every child in order; a server is waited for until it prints
        its address (RuntimeError if it does not within ``ready_within``)."""
        for child in self.children:
            self._spawn(child)
            deadline = time.monotonic() + ready_within
            while not child.ready.wait(0.2):
                assert child.process is not None
                if child.process.poll() is not None:
                    time.sleep(0.2)  # its last words, still on their way through the pipe
                    raise ChildFailed(
                        f"{child.name} exited with {child.process.returncode} before it was "
                        f"ready: {child.last_line or 'no output'}"
                    )
                if time.monotonic() > deadline:
                    raise ChildFailed(
                        f"{child.name} did not start listening in {ready_within:.0f} s"
                    )

    def watch(self, poll: float = 0.5) -> None:
        """Restart children that die, until :meth:`stop` is called."""
        while not self._stopping.wait(poll):
            for child in self.children:
                process = child.process
                if process is None or process.poll() is None:
                    continue
                if self._stopping.is_set():
                    return
                uptime = time.monotonic() - child.started_at
                if uptime > 30:
                    child.restarts = 0  # it ran well: no reason to hold back
                pause = min(10.0, 0.5 * 2**child.restarts)
                self._echo(
                    f"[stack] {child.name} exited with {process.returncode}; "
                    f"restarting in {pause:.1f} s"
                )
                if self._stopping.wait(pause):
                    return
                child.restarts += 1
                self._spawn(child)
                assert child.process is not None
                self._echo(f"[stack] {child.name} restarted (pid {child.process.pid})")

    def stop(self, grace: float = 30.0) -> dict[str, int | None]:
        """SIGTERM each child, newest first, and wait up to ``grace`` seconds
        for it; a child still running then is killed. Exit codes by name."""
        self._stopping.set()
        codes: dict[str, int | None] = {}
        for child in reversed(self.children):
            process = child.process
            if process is None:
                continue
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    self._echo(f"[stack] {child.name} did not stop in {grace:.0f} s: killed")
                    process.kill()
                    process.wait(timeout=10)
            codes[child.name] = process.returncode
        return codes

    def _spawn(self, child: Child) -> None:
        env = {**os.environ, **child.env}
        command = [sys.executable, "-m", "order_cli.main", *child.arguments]
        child.ready.clear()
        child.process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            # A group of its own: Ctrl-C at a terminal reaches the supervisor
            # only, which then stops each child once, in order.
            start_new_session=True,
        )
        child.started_at = time.monotonic()
        if not child.announces_address:
            child.ready.set()
        threading.Thread(target=self._pass_output, args=(child, child.process), daemon=True).start()

    def _pass_output(self, child: Child, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            text = line.rstrip("\n")
            if text.strip():
                child.last_line = text
            found = _LISTENING.search(text)
            if found and child.announces_address:
                child.address = found.group(1)
                child.ready.set()
            self._echo(f"[{child.name}] {text}")
