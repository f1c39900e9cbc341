"""``orders stack``: the whole service on this machine, as supervised processes.

The platform simulator (``orders simulate``) first, then the gRPC server
(``orders serve``) and, with an ``amqp://`` broker, the outbox relay and the
workers. Each child reads the same ``ORDERS_*`` settings; the stack only adds
where the simulator listens, so the order service reads market data over gRPC
as it would in production. Balances and positions stay in the database, moved
in each order's own transaction (so ``orders audit`` can check the books),
unless ``--remote-ledger`` sends them over gRPC as well.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from order_adapters.urls import scheme_of
from order_cli.options import whole
from order_cli.state import runs, state
from order_cli.supervisor import Child, ChildFailed, Supervisor

__all__ = ["stack"]


@click.command()
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Where the OrderService listens (default: ORDERS_GRPC_LISTEN).",
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=whole(1, 64),
    help="Worker processes (with an amqp:// broker).",
)
@click.option(
    "--simulator",
    "simulator_listen",
    default="127.0.0.1:50054",
    show_default=True,
    metavar="HOST:PORT",
    help="Where the platform simulator listens (the market data service's port).",
)
@click.option(
    "--no-simulator",
    is_flag=True,
    help="Use the platform services the settings name instead of starting the simulator.",
)
@click.option(
    "--remote-ledger",
    is_flag=True,
    help="Balances and positions from the simulator over gRPC too (then `orders audit` "
    "cannot check the books: they are the platform's).",
)
@runs
def stack(
    *,
    listen: str | None,
    workers: int,
    simulator_listen: str,
    no_simulator: bool,
    remote_ledger: bool,
) -> None:
    """Run the order service and what it needs as supervised processes until
    Ctrl-C or SIGTERM: a child that dies is restarted."""
    settings = state().settings()
    children: list[Child] = []
    platform_env: dict[str, str] = {}
    if not no_simulator:
        children.append(
            Child("simulate", ["simulate", "--listen", simulator_listen], announces_address=True)
        )
        platform = f"grpc://{simulator_listen}"
        served = [("ORDERS_MARKET_DATA_URL", settings.market_data.url)]
        if remote_ledger:
            served += [
                ("ORDERS_BALANCE_URL", settings.balance.url),
                ("ORDERS_POSITIONS_URL", settings.positions.url),
            ]
        for setting, url in served:
            if url == "simulated":  # the simulator stands in for it, over gRPC
                platform_env[setting] = platform
    serve_env = {**platform_env, "ORDERS_GRPC_LISTEN": listen or settings.grpc.listen}
    children.append(Child("serve", ["serve"], serve_env, announces_address=True))
    if scheme_of(settings.broker.url) in {"amqp", "amqps"}:
        children.append(Child("relay", ["relay"], platform_env))
        children.extend(
            Child(f"worker-{n}", ["worker"], platform_env) for n in range(1, workers + 1)
        )
    supervisor = Supervisor(children, lambda line: click.echo(line, err=True))
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {
        signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)
    }
    watcher = threading.Thread(target=supervisor.watch, daemon=True)
    try:
        try:
            supervisor.start()
        except ChildFailed as failed:
            raise click.ClickException(str(failed)) from None
        for child in children:
            where = f" on {child.address}" if child.address else ""
            assert child.process is not None
            click.echo(f"orders stack: {child.name} (pid {child.process.pid}){where}")
        click.echo("orders stack: running; Ctrl-C stops everything")
        watcher.start()
        while not stop.wait(1.0):
            pass
    finally:
        codes = supervisor.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    unclean = {name: code for name, code in codes.items() if code not in (0, None)}
    click.echo(
        "orders stack: stopped"
        + ("" if not unclean else f" ({', '.join(f'{n} exited {c}' for n, c in unclean.items())})")
    )
