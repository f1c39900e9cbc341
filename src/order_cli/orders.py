"""Commands on orders: submit, show, status, cancel, history."""

from __future__ import annotations

import logging
from uuid import UUID

import click

from order_cli.options import (
    MAX_OFFSET,
    NUMBER,
    SIDES,
    STATUSES,
    TYPES,
    json_option,
    user_option,
    whole,
)
from order_cli.output import Printer
from order_cli.state import CliState, runs, state
from order_core import SubmitOrder
from order_core.decimals import format_decimal
from order_core.errors import DependencyUnavailable
from order_core.results import OrderStatusView

__all__ = ["cancel", "history", "show", "status", "submit"]

_log = logging.getLogger("order_cli")
#: What ``submit`` says when a worker, not this command, processes the order.
QUEUED = "stored; a worker will process it"


@click.command()
@click.option("--symbol", required=True, help="AAPL, MSFT, ... (`orders market` lists them).")
@click.option("--side", required=True, type=SIDES)
@click.option("--type", "order_type", default="market", show_default=True, type=TYPES)
@click.option("--quantity", required=True, type=NUMBER)
@click.option("--price", type=NUMBER, help="Limit price (LIMIT, STOP_LIMIT).")
@click.option("--stop-price", type=NUMBER, help="Stop price (STOP_LOSS, STOP_LIMIT).")
@click.option("--idempotency-key", metavar="KEY", help="Resending a key returns the first answer.")
@user_option
@json_option
@runs
def submit(
    *,
    symbol: str,
    side: str,
    order_type: str,
    quantity: str,
    price: str | None,
    stop_price: str | None,
    idempotency_key: str | None,
    user: str,
    as_json: bool,
) -> None:
    """Submit an order; it is processed at once (a limit may rest), or by
    `orders worker` when the broker is RabbitMQ."""
    cli_state = state()
    runtime = cli_state.runtime()
    receipt = runtime.service.submit(
        SubmitOrder(
            user_id=user,
            symbol=symbol,
            order_type=order_type,
            order_side=side,
            quantity=quantity,
            price=price,
            stop_price=stop_price,
            idempotency_key=idempotency_key,
        )
    )
    out = Printer(as_json)
    verb = "Already submitted" if receipt.replayed else "Submitted"
    order = f"{side.upper()} {quantity} {symbol.upper()} {order_type.upper()}"
    estimate = format_decimal(receipt.estimated_value)
    at = format_decimal(receipt.estimated_price)
    market = format_decimal(receipt.market_price)
    if not as_json:  # the order is stored: say so before anything else can fail
        out.line(
            f"{verb} {receipt.order_id}: {order}, estimated {estimate} at {at} (market {market})"
        )
    if not cli_state.processes_here:
        # A real broker: the relay publishes it and a worker processes it.
        if as_json:
            out.json({**receipt._asdict(), "current_status": None, "status_message": QUEUED})
        else:
            out.line(QUEUED[0].upper() + QUEUED[1:] + ".")
        return
    now = _status_after_processing(cli_state, receipt.order_id, user)
    if as_json:
        out.json(
            {
                **receipt._asdict(),
                "current_status": None if now is None else now.status,
                "status_message": None if now is None else now.status_message,
            }
        )
    elif now is not None:
        out.line(f"Now {now.status}: {now.status_message}")


def _status_after_processing(
    cli_state: CliState, order_id: UUID, user: str
) -> OrderStatusView | None:
    """The order's status once processed; None when that has to wait."""
    if cli_state.process_stored() is not None:
        return None
    try:
        return cli_state.runtime().service.get_status(order_id, user)
    except DependencyUnavailable as error:
        _log.warning("the order is stored, its status unknown for now: %s", error.message)
        return None


@click.command()
@click.argument("order_id")
@user_option
@json_option
@runs
def show(order_id: str, user: str, as_json: bool) -> None:
    """Everything about one order."""
    details = state().runtime().service.get_details(order_id, user)
    out = Printer(as_json)
    if as_json:
        out.json(details)
    else:
        out.fields(f"Order {details.order_id}", details._asdict())


@click.command()
@click.argument("order_id")
@user_option
@json_option
@runs
def status(order_id: str, user: str, as_json: bool) -> None:
    """An order's status, in a sentence."""
    view = state().runtime().service.get_status(order_id, user)
    out = Printer(as_json)
    if as_json:
        out.json(view)
    else:
        since = f"{view.updated_at:%Y-%m-%d %H:%M:%S} UTC"
        out.line(f"{view.order_id} {view.status}: {view.status_message} (since {since})")


@click.command()
@click.argument("order_id")
@user_option
@json_option
@runs
def cancel(order_id: str, user: str, as_json: bool) -> None:
    """Cancel a PENDING or PROCESSING order."""
    cli_state = state()
    receipt = cli_state.runtime().service.cancel(order_id, user)
    cli_state.process_stored()
    out = Printer(as_json)
    if as_json:
        out.json(receipt)
    else:
        out.line(f"Cancelled {receipt.order_id} at {receipt.cancelled_at:%Y-%m-%d %H:%M:%S} UTC")


@click.command()
@click.option("--status", "status_filter", type=STATUSES, help="Only orders in this status.")
@click.option("--limit", default=20, show_default=True, type=whole(), help="1 to 100.")
@click.option("--offset", default=0, show_default=True, type=whole(0, MAX_OFFSET))
@user_option
@json_option
@runs
def history(status_filter: str | None, limit: int, offset: int, user: str, as_json: bool) -> None:
    """The user's orders, newest first."""
    page = (
        state()
        .runtime()
        .service.get_history(user, limit=limit, offset=offset, status=status_filter)
    )
    out = Printer(as_json)
    if as_json:
        out.json(page)
        return
    if not page.orders:
        total = page.total_count
        out.line("No orders." if total == 0 else f"No orders past the first {total}.")
        return
    shown = f"{offset + 1}-{offset + len(page.orders)}"
    out.orders(f"Orders {shown} of {page.total_count}", page.orders)
