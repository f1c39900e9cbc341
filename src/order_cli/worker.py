"""``orders worker``: process orders from RabbitMQ (docs/rabbitmq.md)."""

from __future__ import annotations

import click

from order_adapters.urls import redacted
from order_cli.options import METRICS_PORT
from order_cli.relay import require_rabbitmq, stopping_on_signals
from order_cli.state import runs, state

__all__ = ["worker"]


@click.command()
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Consumers in this process, each with its own connection.",
)
@METRICS_PORT
@runs
def worker(concurrency: int, metrics_port: int | None) -> None:
    """Process orders from RabbitMQ until SIGTERM or Ctrl-C.

    Consumes orders.processing (and positions.updates when the positions are
    this service's own), retries transient failures through the retry tiers,
    dead-letters what can never succeed, and runs a recovery pass every
    ORDERS_STALE_AFTER. On SIGTERM it stops consuming, finishes and
    acknowledges the messages in hand, and exits 0."""
    try:
        from order_adapters.rabbitmq import Metrics, serve_metrics  # noqa: PLC0415
        from order_adapters.rabbitmq.worker import WorkerOptions, run_consumers  # noqa: PLC0415
        from order_adapters.topology import Topology  # noqa: PLC0415
    except ImportError as error:
        raise click.ClickException(
            f"orders worker needs the 'rabbitmq' extra: pip install 'order-service[rabbitmq]' "
            f"({error})"
        ) from error
    cli_state = state()
    settings = cli_state.settings()
    require_rabbitmq(settings, "worker")
    runtime = cli_state.runtime()
    broker = settings.broker
    keep_positions = settings.keeps_positions
    options = WorkerOptions(
        url=broker.url,
        topology=Topology.build(runtime.service.dependencies.policy.retry),
        prefetch=broker.prefetch,
        timeout=broker.timeout,
        queue_type=broker.queue_type,
        delivery_limit=broker.delivery_limit,
        keep_positions=keep_positions,
    )
    metrics = Metrics()
    if metrics_port is not None:
        serve_metrics(metrics, metrics_port)
    stale_after = settings.stale_after

    def recover() -> None:
        runtime.service.recover(stale_after=stale_after, keep_positions=keep_positions)

    with stopping_on_signals() as stop:
        click.echo(
            f"orders: worker consuming from {redacted(broker.url)} "
            f"({concurrency} consumer(s), prefetch {broker.prefetch})"
        )
        consumers = run_consumers(
            runtime.service,
            options,
            concurrency=concurrency,
            metrics=metrics,
            stop=stop,
            recover=recover,
            recover_every=max(1.0, stale_after.total_seconds()),
        )
    handled = sum(consumer.handled for consumer in consumers)
    click.echo(f"orders: worker stopped ({handled} messages handled)")
