"""``orders load`` end to end, as a user runs it: submit and process through
the CLI on PostgreSQL (one thread and eight) and on SQLite (one and eight),
next to a raw psycopg insert+commit loop measured in the same run.

Each ``orders load`` runs as its own process on a fresh database (created and
dropped here), with ``--json``; the raw loop runs before and after on the same
server and the mean of both is the baseline.

    python bench/load.py [--orders 2000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from order_adapters.sql import upgrade
from sql import DEFAULT_POSTGRES, raw_baseline  # bench/ is the script's folder


def orders_load(database_url: str, orders: int, concurrency: int, data_dir: Path) -> dict[str, Any]:
    """One ``orders load --json`` in a process of its own."""
    env = {
        **os.environ,
        "ORDERS_DATABASE_URL": database_url,
        "ORDERS_DATA_DIR": str(data_dir),
        "ORDERS_DATABASE_AUTO_MIGRATE": "true",
    }
    command = [sys.executable, "-m", "order_cli.main", "load", "--count", str(orders)]
    command += ["--concurrency", str(concurrency), "--seed", "1", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"orders load failed ({done.returncode}): {done.stderr.strip()}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def rate(samples: list[int]) -> float:
    return len(samples) / (sum(samples) / 1e9)


def describe(name: str, report: dict[str, Any], raw: float | None = None) -> str:
    latency = report["latency_ms"]
    text = (
        f"  {name:24s} {report['orders_per_second']:8,.0f} orders/s"
        f"   p50 {latency['p50']:7.2f} ms   p99 {latency['p99']:7.2f} ms"
        f"   p99/p50 {latency['p99'] / max(latency['p50'], 1e-9):5.1f}"
    )
    if raw is not None:
        text += f"   / raw {report['orders_per_second'] / raw:.2f}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()

    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    names = [f"orders_load_{uuid.uuid4().hex[:8]}" for _ in range(3)]
    urls = [
        sa.make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
        for name in names
    ]
    with admin.connect() as connection:
        for name in names:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        raw_url, *load_urls = urls
        upgrade(raw_url)
        raw_before = rate(raw_baseline(raw_url, args.orders))
        reports: dict[str, dict[str, Any]] = {}
        with tempfile.TemporaryDirectory() as directory:
            base = Path(directory)
            for url, concurrency in zip(load_urls, (1, 8), strict=True):
                reports[f"PostgreSQL, {concurrency} thread(s)"] = orders_load(
                    url, args.orders, concurrency, base / f"pg{concurrency}"
                )
            for concurrency in (1, 8):
                sqlite = f"sqlite:///{base / f'load{concurrency}.db'}"
                reports[f"SQLite, {concurrency} thread(s)"] = orders_load(
                    sqlite, args.orders, concurrency, base / f"lite{concurrency}"
                )
        raw_after = rate(raw_baseline(raw_url, args.orders))
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    raw = (raw_before + raw_after) / 2
    print(f"orders load, {args.orders} orders each (submitted and processed in-process)")
    print(
        f"  {'raw insert+commit (PG)':24s} {raw:8,.0f} /s   (before {raw_before:,.0f}/s,"
        f" after {raw_after:,.0f}/s)"
    )
    for name, report in reports.items():
        print(describe(name, report, raw if name.startswith("PostgreSQL") else None))


if __name__ == "__main__":
    main()
