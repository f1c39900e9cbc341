"""``orders simulate``: the platform's market data, balance and position
services over gRPC, served from the simulated market and ledger
(docs/platform.md)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click

from order_adapters.bootstrap import bootstrap
from order_cli.state import runs, state

__all__ = ["simulate"]

_log = logging.getLogger("order_cli")
_CODES = ("UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL", "RESOURCE_EXHAUSTED")


@click.command()
@click.option(
    "--listen",
    metavar="HOST:PORT",
    default="127.0.0.1:50054",
    show_default=True,
    help="Where to listen (port 0: any free port).",
)
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    default=0.0,
    help="Seconds every call waits before it is answered (a slow platform).",
)
@click.option(
    "--fail",
    type=click.Choice(_CODES, case_sensitive=False),
    default=None,
    help="Answer every call with this status (a failing platform).",
)
@click.option(
    "--like-deployed",
    is_flag=True,
    help="GetAssetDetails UNIMPLEMENTED and prices through a 32-bit float, as the "
    "deployed market data service answers.",
)
@runs
def simulate(listen: str, delay: float, fail: str | None, like_deployed: bool) -> None:
    """Serve MarketDataService, BalanceService and PositionService until
    SIGTERM or Ctrl-C, from the simulated market and accounts (what `orders
    market` and `orders account` show). Point the service at it with
    ORDERS_MARKET_DATA_URL, ORDERS_BALANCE_URL and ORDERS_POSITIONS_URL set to
    grpc://HOST:PORT. Faults can also be changed while it runs, through its
    hub_investments.simulator.SimulatorControl service."""
    try:
        import grpc  # noqa: PLC0415  # the grpc extra

        from order_adapters.platform.simulator import SimulatorServer  # noqa: PLC0415
    except ImportError as error:
        raise click.ClickException(
            f"orders simulate needs the 'grpc' extra: pip install 'order-service[grpc]' ({error})"
        ) from error
    # The simulator serves the simulated state, whatever the service is pointed at.
    settings = (
        state()
        .settings()
        .with_overrides(
            market_data_url="simulated", balance_url="simulated", positions_url="simulated"
        )
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        _log.info("signal %d: shutting down", signum)
        stop.set()

    with bootstrap(settings) as runtime:
        server = SimulatorServer(runtime, listen=listen)
        code = getattr(grpc.StatusCode, fail.upper()) if fail else None
        server.faults.set("*", delay, code, 0)
        server.faults.asset_details_unimplemented = server.faults.float32_prices = like_deployed
        previous = {
            signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            server.start()
            click.echo(
                "orders: serving hub_investments.MarketDataService, BalanceService and "
                f"PositionService on {server.address}"
            )
            while not stop.wait(1.0):
                pass
            server.stop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    click.echo("orders: stopped")
