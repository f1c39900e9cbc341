"""``orders serve``: the platform's gRPC OrderService (docs/grpc.md)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

import click

from order_adapters.bootstrap import bootstrap
from order_adapters.runtime import Runtime
from order_cli.options import METRICS_PORT
from order_cli.state import runs, state
from order_core.errors import OrderError

__all__ = ["serve"]

_log = logging.getLogger("order_cli")
#: How long calls in flight may take to finish after SIGTERM (exit within 30 s).
GRACE_SECONDS = 25.0


@click.command()
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Where to listen (port 0: any free port) [env ORDERS_GRPC_LISTEN, default "
    "127.0.0.1:50051]",
)
@click.option(
    "--allow-unauthenticated",
    is_flag=True,
    default=None,
    help="Serve without checking tokens (development only) [env ORDERS_GRPC_ALLOW_UNAUTHENTICATED]",
)
@METRICS_PORT
@runs
def serve(listen: str | None, allow_unauthenticated: bool | None, metrics_port: int | None) -> None:
    """Serve hub_investments.OrderService over gRPC until SIGTERM or Ctrl-C.

    Tokens are checked with the platform's secret (ORDERS_JWT_SECRET); without
    one the server refuses to start unless --allow-unauthenticated."""
    try:
        from order_adapters.grpc.server import OrderServer  # noqa: PLC0415  # the grpc extra
    except ImportError as error:
        raise click.ClickException(
            f"orders serve needs the 'grpc' extra: pip install 'order-service[grpc]' ({error})"
        ) from error
    cli_state = state()
    settings = cli_state.settings().with_overrides(
        grpc_listen=listen, grpc_allow_unauthenticated=allow_unauthenticated
    )
    secret = settings.grpc.jwt_secret
    if secret is None and not settings.grpc.allow_unauthenticated:
        raise click.UsageError(
            "no token secret: set ORDERS_JWT_SECRET (the platform's HS256 secret), "
            "or pass --allow-unauthenticated to serve without checking tokens"
        )
    if secret is None:
        click.secho(
            "WARNING: serving WITHOUT AUTHENTICATION: any caller may act as any user "
            "(--allow-unauthenticated). Never do this on a network others can reach.",
            fg="red",
            bold=True,
            err=True,
        )
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        _log.info("signal %d: shutting down", signum)
        stop.set()

    with bootstrap(settings) as runtime:
        server = OrderServer(runtime, listen=settings.grpc.listen, jwt_secret=secret)
        # Behind a broker the workers own recovery (decision 59): passes here
        # would only repeat theirs, on the server's CPU.
        owns_recovery = server.processes_orders
        if owns_recovery:
            _recover(runtime)
        if metrics_port is not None:
            # The process-wide registry: the platform clients' breakers and calls,
            # stamina's retries, the process's own figures.
            from prometheus_client import start_http_server  # noqa: PLC0415  # grpc extra

            start_http_server(metrics_port, addr="127.0.0.1")
        previous = {
            signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            server.start()
            server.process_stored()
            click.echo(f"orders: serving hub_investments.OrderService on {server.address}")
            # Work a crashed process left behind turns stale while this one
            # serves: a pass every half of ORDERS_STALE_AFTER takes it up.
            every = max(1.0, settings.stale_after.total_seconds() / 2)
            next_pass = time.monotonic() + every
            while not stop.wait(min(1.0, every)):
                if owns_recovery and time.monotonic() >= next_pass:
                    _recover(runtime)
                    server.process_stored()
                    next_pass = time.monotonic() + every
            click.echo("orders: shutting down (health NOT_SERVING, finishing calls in flight)")
            server.stop(GRACE_SECONDS)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    click.echo("orders: stopped")


def _recover(runtime: Runtime) -> None:
    try:
        settings = runtime.settings
        runtime.service.recover(
            stale_after=settings.stale_after, keep_positions=settings.keeps_positions
        )
    except OrderError as error:
        _log.warning("recovery is deferred (%s): %s", error.code, error.message)
