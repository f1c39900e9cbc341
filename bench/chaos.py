"""Chaos with the installed ``orders`` command, larger than the test: many
``submit`` / ``cancel`` / ``market set`` processes at once on one database, a
fraction of them killed with SIGKILL at random moments, every killed
submission sent again with the same idempotency key until it is answered,
then ``orders recover`` and every live order cancelled. Prints what ran and
what the books say; exits 1 unless the audit is clean, the demo account
matches its orders to the last decimal and no command failed.

It is the chaos of ``tests/recovery/test_killed_processes.py`` (the same code,
imported from there) with its size and backend chosen here.

    python bench/chaos.py [--backend sqlite|postgres] [--processes 200]
                          [--kill-fraction 0.333] [--parallel 8] [--seed N]
                          [--postgres URL]

PostgreSQL: a database is created for the run on the server of ``--postgres``
(default: ``ORDERS_TEST_POSTGRES_URL``, else the local ``test`` database),
migrated with ``orders db upgrade`` and dropped afterwards. SQLite: a file in
a temporary folder (``ORDERS_DATA_DIR``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.recovery.test_killed_processes import Report, environment, run_chaos


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--processes", type=int, default=200, help="commands, before resends")
    parser.add_argument("--kill-fraction", type=float, default=1 / 3)
    parser.add_argument("--parallel", type=int, default=8, help="commands running at once")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--postgres", metavar="URL", help="the server to create a database on")
    options = parser.parse_args()
    if options.postgres:
        os.environ["ORDERS_TEST_POSTGRES_URL"] = options.postgres
    chaos = {
        "processes": options.processes,
        "kill_fraction": options.kill_fraction,
        "parallel": options.parallel,
        "seed": options.seed,
    }
    print(
        f"backend {options.backend}: {options.processes} commands, {options.parallel} at once, "
        f"kill fraction {options.kill_fraction:.3f}, seed {options.seed}",
        flush=True,
    )
    if options.backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="orders-chaos-") as folder:
            report = run_chaos(environment(ORDERS_DATA_DIR=folder), **chaos)
    else:
        # Read ORDERS_TEST_POSTGRES_URL only now that --postgres may have set it.
        from tests.sql_databases import temporary_postgres_database  # noqa: PLC0415

        with temporary_postgres_database(migrate=False) as url:
            report = run_chaos(environment(ORDERS_DATABASE_URL=url), migrate=True, **chaos)
    return _print(report)


def _print(report: Report) -> int:
    for line in report.lines():
        print(line)
    for failure in report.failures[:5]:
        print("\nFAILURE:", failure)
    if report.disagreements:
        print("\nKEYS TOLD DIFFERENT THINGS:", report.disagreements)
    stored = {order["order_id"] for order in report.orders}
    unmatched = stored ^ report.acknowledged
    if unmatched:
        print("\nORDERS NO KEY WAS TOLD OF, OR ANSWERS WITH NO ORDER:", unmatched)
    for discrepancy in report.discrepancies[:10]:
        print("\nDISCREPANCY:", discrepancy)
    clean = (
        not report.failures
        and not report.disagreements
        and not report.discrepancies
        and report.cash_matches
        and report.positions_match
        and not unmatched
    )
    print("clean:", clean)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
