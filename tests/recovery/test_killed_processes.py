"""Chaos with the installed ``orders`` command: many ``submit``, ``cancel`` and
``market set`` processes at once on one database (a SQLite file, or a
PostgreSQL database of the test's own), a third of them killed with SIGKILL
at random moments. Every submission that was killed (or told "try again") is
sent again with the same idempotency key until it is answered; then
``orders recover`` runs and every live order is cancelled. Afterwards:

- ``orders audit`` reports no discrepancy;
- the demo account's cash is its opening cash less the executed BUYs plus the
  executed SELLs, to the last decimal, nothing is held, and each holding is
  its opening quantity moved by the executed orders;
- every stored order is the answer one key was given (no key made two orders,
  no order was made that no key was told of), and every order is final;
- no command printed a traceback or an internal error, or ended with a usage
  error.

``bench/chaos.py`` runs the same chaos (:func:`run_chaos`) larger.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from order_adapters.simulated.demo import DEMO_CASH, DEMO_POSITIONS
from order_adapters.simulated.listing import DEFAULT_LISTING

D = Decimal
#: The prices the built-in listing starts with, for the symbols the demo holds.
BASE_PRICES = {symbol: D(str(DEFAULT_LISTING[symbol][2])) for symbol in DEMO_POSITIONS}
#: How long work may sit untouched before a command's recovery pass takes it over.
STALE_AFTER = 1
#: Exit codes a command may end with: answered (0), refused (1), a dependency
#: (a busy database) is down for now (3). Usage errors (2) never.
ANSWERED, REFUSED, UNAVAILABLE = 0, 1, 3
#: Refusals that are not an answer to a submission: send it again.
TRY_AGAIN = {"IDEMPOTENCY_IN_PROGRESS", "CONCURRENT_MODIFICATION", "DEPENDENCY_UNAVAILABLE"}
LIVE = ("PENDING", "PROCESSING")
#: Warnings a command may print under this load: its own change is made, the
#: rest waits for the next command (a busy SQLite file, say).
EXPECTED_WARNINGS = ("is deferred", "status unknown for now")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def orders_command() -> list[str]:
    """The installed ``orders`` executable (``python -m order_cli.main`` runs
    nothing: the module has no ``__main__`` block)."""
    beside = Path(sys.executable).with_name("orders")
    found = str(beside) if beside.exists() else shutil.which("orders")
    if found:
        return [found]
    return [sys.executable, "-c", "from order_cli.main import main; main()"]


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any ``ORDERS_*`` setting, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_")}
    env.update(settings)
    env["ORDERS_STALE_AFTER"] = str(STALE_AFTER)
    return env


# -- the chaos ---------------------------------------------------------------------------


@dataclass
class Job:
    kind: str  # "submit", "cancel" or "market"
    args: list[str]
    key: str | None = None
    #: How many more times this job may be killed (a submission is sent until answered).
    kills_left: int = 3
    killed: bool = False


@dataclass
class Running:
    job: Job
    process: subprocess.Popen[str]
    started: float
    kill_at: float | None


@dataclass
class Report:
    """What a chaos run did and found."""

    commands: int = 0
    kills: int = 0
    kills_by_kind: Counter[str] = field(default_factory=Counter)
    resent: int = 0
    unavailable: int = 0
    #: Key -> what each of its submissions was finally told: an order id, or
    #: "refused:CODE" (two when the key was sent by two processes at once).
    answers: dict[str, list[str]] = field(default_factory=dict)
    replayed_after_kill: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    cancels: Counter[str] = field(default_factory=Counter)
    price_moves: int = 0
    warnings: Counter[str] = field(default_factory=Counter)
    #: Outputs no command may produce (tracebacks, internal errors, usage errors).
    failures: list[str] = field(default_factory=list)
    recovered: dict[str, Any] = field(default_factory=dict)
    final_cancels: int = 0
    orders: list[dict[str, Any]] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)
    account: dict[str, Any] = field(default_factory=dict)
    expected_cash: Decimal = Decimal(0)
    expected_positions: dict[str, Decimal] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def acknowledged(self) -> set[str]:
        return {a for told in self.answers.values() for a in told if not a.startswith("refused:")}

    @property
    def disagreements(self) -> dict[str, list[str]]:
        """The keys whose submissions were told different things."""
        return {key: told for key, told in self.answers.items() if len(set(told)) > 1}

    @property
    def statuses(self) -> Counter[str]:
        return Counter(order["status"] for order in self.orders)

    @property
    def discrepancies(self) -> list[dict[str, Any]]:
        return list(self.audit.get("discrepancies", ["no audit"]))

    @property
    def cash_matches(self) -> bool:
        return (
            D(self.account.get("cash", "NaN")) == self.expected_cash
            and D(self.account.get("reserved", "NaN")) == 0
        )

    @property
    def positions_match(self) -> bool:
        held = {p["symbol"]: D(p["quantity"]) for p in self.account.get("positions", [])}
        symbols = set(held) | set(self.expected_positions)
        return all(held.get(s, D(0)) == self.expected_positions.get(s, D(0)) for s in symbols)

    def lines(self) -> list[str]:
        statuses = self.statuses
        return [
            f"commands run (chaos):  {self.commands} "
            f"({self.resent} submissions sent again, {self.unavailable} told to retry)",
            f"kills (SIGKILL):       {self.kills} {dict(self.kills_by_kind)}",
            f"acknowledged orders:   {len(self.acknowledged)} "
            f"({self.replayed_after_kill} answered only by the resend after a kill)",
            f"refused submissions:   {sum(self.refusals.values())} {dict(self.refusals)}",
            f"cancels during chaos:  {dict(self.cancels)}",
            f"price moves:           {self.price_moves}",
            f"orders recover:        {self.recovered or 'nothing left to recover'}",
            f"live orders cancelled: {self.final_cancels}",
            f"orders stored:         {len(self.orders)} {dict(statuses)}",
            f"executed:              {statuses['EXECUTED']}",
            f"cancelled:             {statuses['CANCELLED']}",
            f"discrepancies:         {len(self.discrepancies)}",
            f"demo cash:             {self.account.get('cash')} "
            f"(expected {self.expected_cash}, reserved {self.account.get('reserved')})",
            f"demo account matches:  {self.cash_matches and self.positions_match} "
            f"(cash {self.cash_matches}, positions {self.positions_match})",
            f"warnings printed:      {dict(self.warnings)}",
            f"failures:              {len(self.failures)}",
            f"seconds:               {self.seconds:.1f}",
        ]


class Chaos:
    """Runs ``orders`` commands, ``parallel`` at a time, killing some."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        kill_fraction: float,
        parallel: int,
        rng: random.Random,
    ) -> None:
        self.env = env
        self.kill_fraction = kill_fraction
        self.parallel = parallel
        self.rng = rng
        self.command = orders_command()
        self.report = Report()
        self.durations: list[float] = []
        self.limit_orders: list[str] = []
        self.twins: list[Job] = []
        self.keys = 0

    # -- one command, run to the end (setup and the final steps) ---------------------

    def run(self, *args: str, expect: tuple[int, ...] = (ANSWERED,)) -> Any:
        """Run ``orders ARGS`` to the end; its JSON output."""
        done = subprocess.run(
            [*self.command, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self._check_output(args, done.returncode, done.stdout, done.stderr)
        assert done.returncode in expect, (args, done.returncode, done.stdout, done.stderr)
        return json.loads(done.stdout) if "--json" in args else done.stdout

    # -- jobs --------------------------------------------------------------------------

    def new_job(self) -> Job:
        """A random command: mostly submissions, some cancels and price moves."""
        roll = self.rng.random()
        if roll < 0.2 and self.limit_orders:
            # One of the latest: likely still resting, maybe executing right now.
            target = self.rng.choice(self.limit_orders[-8:])
            return Job("cancel", ["cancel", target, "--json"])
        if roll < 0.4:
            symbol = self.rng.choice(sorted(BASE_PRICES))
            price = BASE_PRICES[symbol] * D(1 + self.rng.uniform(-0.04, 0.04))
            return Job(
                "market", ["market", "set", symbol, str(price.quantize(D("0.01"))), "--json"]
            )
        return self.new_submission()

    def new_submission(self) -> Job:
        self.keys += 1
        key = f"chaos-{self.keys}-{self.rng.getrandbits(32):08x}"
        symbol = self.rng.choice(sorted(BASE_PRICES))
        side = self.rng.choice(["buy", "sell"])
        # Sizes that run the cash and the smaller holdings out during the run.
        quantity = self.rng.randint(10, 80) if side == "buy" else self.rng.randint(2, 12)
        args = ["submit", "--symbol", symbol, "--side", side, "--quantity", str(quantity)]
        if self.rng.random() < 0.5:
            # A limit a little away from the market: it rests until a price move.
            away = self.rng.uniform(0.0, 0.05) * (-1 if side == "buy" else 1)
            price = (BASE_PRICES[symbol] * D(1 + away)).quantize(D("0.01"))
            args += ["--type", "limit", "--price", str(price)]
        args += ["--idempotency-key", key, "--json"]
        if self.rng.random() < 0.2:
            # The same request from a second process at the same moment.
            self.twins.append(Job("submit", list(args), key=key))
        return Job("submit", args, key=key)

    # -- the run -----------------------------------------------------------------------

    def chaos(self, processes: int) -> None:
        """``processes`` random commands (each made when it starts, so a cancel
        names an order that exists by then), and every submission sent again
        until it is answered (those count as commands too)."""
        left = [processes]

        def fresh() -> Job | None:
            if not left[0]:
                return None
            left[0] -= 1
            return self.new_job()

        self.drive([], fresh)

    def drive(self, jobs: list[Job], fresh: Callable[[], Job | None] = lambda: None) -> None:
        """Run ``jobs`` (and what ``fresh`` makes, until it makes None),
        ``parallel`` at a time, killing some; what has to run again (a
        submission killed or told to retry) is put among the next ones."""
        running: list[Running] = []
        while True:
            while len(running) < self.parallel:
                if self.twins:
                    job: Job | None = self.twins.pop()
                else:
                    job = jobs.pop(0) if jobs else fresh()
                if job is None:
                    break
                running.append(self._start(job))
            if not running:
                return
            time.sleep(0.005)
            now = time.monotonic()
            for run in list(running):
                if run.kill_at is not None and now >= run.kill_at and run.process.poll() is None:
                    run.process.send_signal(signal.SIGKILL)
                    run.kill_at = None
                if run.process.poll() is None:
                    continue
                running.remove(run)
                again = self._finished(run, now)
                if again is not None:
                    jobs.insert(self.rng.randint(0, min(len(jobs), self.parallel)), again)

    def _start(self, job: Job) -> Running:
        self.report.commands += 1
        kill_at = None
        if job.kills_left > 0 and self.rng.random() < self.kill_fraction:
            # Anywhere in the command's life: its typical duration so far.
            typical = statistics.median(self.durations[-50:]) if self.durations else 0.8
            kill_at = time.monotonic() + self.rng.uniform(0.02, 0.95 * typical)
        process = subprocess.Popen(
            [*self.command, *job.args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return Running(job, process, time.monotonic(), kill_at)

    def _finished(self, run: Running, now: float) -> Job | None:
        """Take in a command's outcome; the job to run again, if any."""
        out, err = run.process.communicate()
        code = run.process.returncode
        job, report = run.job, self.report
        if code == -signal.SIGKILL:
            report.kills += 1
            report.kills_by_kind[job.kind] += 1
            if job.kind == "submit":
                report.resent += 1
                job.kills_left -= 1
                job.killed = True
                return job
            return None
        self.durations.append(now - run.started)
        self._check_output(job.args, code, out, err)
        if code == UNAVAILABLE:
            report.unavailable += 1
            return job if job.kind == "submit" else None
        if code not in (ANSWERED, REFUSED):
            return None  # _check_output recorded it
        document = json.loads(out) if out.strip() else {}
        if job.kind == "market":
            report.price_moves += code == ANSWERED
            return None
        if job.kind == "cancel":
            report.cancels["cancelled" if code == ANSWERED else document["error"]["code"]] += 1
            return None
        assert job.key is not None
        if code == REFUSED:
            refusal = document["error"]["code"]
            if refusal in TRY_AGAIN:
                report.unavailable += 1
                return job
            report.refusals[refusal] += 1
            report.answers.setdefault(job.key, []).append(f"refused:{refusal}")
            return None
        order_id = document["order_id"]
        report.answers.setdefault(job.key, []).append(order_id)
        if document.get("replayed") and job.killed:
            report.replayed_after_kill += 1
        if "--type" in job.args:
            self.limit_orders.append(order_id)
        return None

    def _check_output(self, args: Any, code: int, out: str, err: str) -> None:
        report = self.report
        problem = None
        for line in err.splitlines():
            if "WARNING" in line or "warning" in line:
                report.warnings[_UUID.sub("<id>", line)] += 1
                if not any(fine in line for fine in EXPECTED_WARNINGS):
                    problem = "a warning"
        if "Traceback" in err or "Internal error" in err or "INTERNAL_ERROR" in out:
            problem = "internal error"
        elif code not in (ANSWERED, REFUSED, UNAVAILABLE):
            problem = f"exit {code}"
        elif code in (ANSWERED, REFUSED) and args[-1] == "--json":
            try:
                json.loads(out)
            except ValueError:
                problem = "no JSON document"
        if problem:
            report.failures.append(f"{problem}: orders {' '.join(args)}\n{out}\n{err}")

    # -- afterwards --------------------------------------------------------------------

    def history(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = self.run("history", "--json", "--limit", "100", "--offset", str(len(found)))
            found += page["orders"]
            if not page["orders"] or len(found) >= page["total_count"]:
                return found

    def settle(self) -> None:
        """Recovery, then every live order cancelled, then the books read."""
        report = self.report
        time.sleep(STALE_AFTER + 0.2)  # what the killed commands left is stale now
        recovered = self.run("recover", "--json")
        report.recovered = {
            k: (len(v) if isinstance(v, list) else v) for k, v in recovered.items() if v
        }
        for _ in range(5):
            live = [o["order_id"] for o in self.history() if o["status"] in LIVE]
            if not live:
                break
            cancels = [
                Job("cancel", ["cancel", order_id, "--json"], kills_left=0) for order_id in live
            ]
            before, commands = report.cancels.copy(), report.commands
            self.drive(cancels)  # none is killed: kills_left=0
            report.final_cancels += (report.cancels - before)["cancelled"]
            report.cancels, report.commands = before, commands
        report.orders = self.history()
        report.audit = self.run("audit", "--json", expect=(ANSWERED, REFUSED))
        report.account = self.run("account", "--json")
        cash = D(DEMO_CASH)
        positions = {symbol: D(quantity) for symbol, quantity in DEMO_POSITIONS.items()}
        for order in report.orders:
            if order["status"] != "EXECUTED":
                continue
            value, quantity = D(order["execution_value"]), D(order["quantity"])
            if order["order_side"] == "BUY":
                cash -= value
                positions[order["symbol"]] = positions.get(order["symbol"], D(0)) + quantity
            else:
                cash += value
                positions[order["symbol"]] = positions.get(order["symbol"], D(0)) - quantity
        report.expected_cash = cash
        report.expected_positions = positions


def run_chaos(
    env: dict[str, str],
    *,
    processes: int,
    kill_fraction: float = 1 / 3,
    parallel: int = 8,
    seed: int | None = None,
    migrate: bool = False,
) -> Report:
    """The whole run on the database ``env`` names; what it found."""
    started = time.monotonic()
    chaos = Chaos(env, kill_fraction=kill_fraction, parallel=parallel, rng=random.Random(seed))
    if migrate:
        chaos.run("db", "upgrade")
    opening = chaos.run("account", "--json")  # creates the database and the demo account
    assert D(opening["cash"]) == D(DEMO_CASH), opening
    chaos.chaos(processes)
    chaos.settle()
    chaos.report.seconds = time.monotonic() - started
    return chaos.report


def assert_clean(report: Report) -> None:
    text = "\n".join(report.lines())
    assert not report.failures, "\n\n".join(report.failures[:3]) + "\n" + text
    assert not report.disagreements, (report.disagreements, text)
    assert report.discrepancies == [], text
    assert report.cash_matches, text
    assert report.positions_match, text
    assert all(order["status"] not in LIVE for order in report.orders), text
    stored = {order["order_id"] for order in report.orders}
    assert stored == report.acknowledged, (stored ^ report.acknowledged, text)
    assert report.kills > 0, text


# -- the tests ---------------------------------------------------------------------------


@pytest.fixture
def postgres_env() -> Iterator[dict[str, str]]:
    from tests.services import need  # noqa: PLC0415
    from tests.sql_databases import temporary_postgres_database  # noqa: PLC0415

    need("PostgreSQL")
    with temporary_postgres_database(migrate=False) as url:
        yield environment(ORDERS_DATABASE_URL=url)


def test_killed_commands_on_sqlite_leave_the_books_balanced(tmp_path: Path) -> None:
    report = run_chaos(environment(ORDERS_DATA_DIR=str(tmp_path)), processes=24, parallel=6)
    print("\n".join(report.lines()))
    assert_clean(report)


@pytest.mark.postgres
def test_killed_commands_on_postgres_leave_the_books_balanced(
    postgres_env: dict[str, str],
) -> None:
    report = run_chaos(postgres_env, processes=24, parallel=6, migrate=True)
    print("\n".join(report.lines()))
    assert_clean(report)
