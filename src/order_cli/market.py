"""The simulated market: list prices, move one, open and close markets."""

from __future__ import annotations

from uuid import UUID

import click

from order_adapters.runtime import Runtime
from order_cli.options import NUMBER, json_option
from order_cli.output import Printer
from order_cli.state import runs, state
from order_core import Symbol
from order_core.decimals import format_decimal
from order_core.results import OrderDetails

__all__ = ["market"]


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
@runs
def market(context: click.Context, as_json: bool) -> None:
    """List the simulated market's prices (or change them: see the commands)."""
    if context.invoked_subcommand is not None:
        return
    assets = state().runtime().market.assets()
    out = Printer(as_json)
    rows = [
        {
            "symbol": asset.symbol,
            "name": asset.name,
            "price": quote.price,
            "market_open": is_open,
            "updated_at": quote.timestamp,
        }
        for asset, quote, is_open in assets
    ]
    if as_json:
        out.json({"assets": rows})
    else:
        out.rows(
            "Simulated market",
            ["symbol", "name", "price", "open", "updated (UTC)"],
            (
                [
                    r["symbol"],
                    r["name"],
                    r["price"],
                    "yes" if r["market_open"] else "closed",
                    f"{r['updated_at']:%Y-%m-%d %H:%M:%S}",
                ]
                for r in rows
            ),
        )


@market.command(name="set")
@click.argument("symbol")
@click.argument("price", type=NUMBER)
@json_option
@runs
def set_price(symbol: str, price: str, as_json: bool) -> None:
    """Move SYMBOL's price; resting orders it makes executable execute."""
    cli_state = state()
    runtime = cli_state.runtime()
    wanted = _listed(runtime, symbol)[0]
    quote = runtime.market.set_price(wanted, price)
    report = runtime.service.sweep([wanted])
    cli_state.process_stored()
    executed = _executed(runtime, report.executed)
    out = Printer(as_json)
    if as_json:
        out.json(
            {
                "symbol": wanted,
                "price": quote.price,
                "executed": executed,
                "failed": list(report.failed),
            }
        )
        return
    out.line(f"{wanted} is now {format_decimal(quote.price)}")
    if not executed:
        out.line("No resting order became executable.")
        return
    out.rows(
        f"Executed ({len(executed)})",
        ["order_id", "user_id", "side", "type", "quantity", "execution_price"],
        (
            [
                e["order_id"],
                e["user_id"],
                e["order_side"],
                e["order_type"],
                e["quantity"],
                e["execution_price"],
            ]
            for e in executed
        ),
    )


def _executed(runtime: Runtime, order_ids: tuple[UUID, ...]) -> list[dict[str, object]]:
    """What the sweep executed, as the seed's fields."""
    found = []
    with runtime.service.dependencies.unit_of_work() as uow:
        for order_id in order_ids:
            order = uow.orders.get(order_id)
            if order is not None:
                details = OrderDetails.of(order)
                found.append(
                    {
                        "order_id": details.order_id,
                        "user_id": details.user_id,
                        "order_side": details.order_side,
                        "order_type": details.order_type,
                        "quantity": details.quantity,
                        "execution_price": details.execution_price,
                    }
                )
    return found


@market.command(name="close")
@click.argument("symbol", required=False)
@json_option
@runs
def close_market(symbol: str | None, as_json: bool) -> None:
    """Close SYMBOL's market (or every market): new orders are refused."""
    runtime = state().runtime()
    symbols = _listed(runtime, symbol)
    runtime.market.set_market_open(False, symbol)
    out = Printer(as_json)
    if as_json:
        out.json({"closed": symbols})
    else:
        out.line(f"Closed {'every market' if symbol is None else symbols[0]}.")


@market.command(name="open")
@click.argument("symbol", required=False)
@json_option
@runs
def open_market(symbol: str | None, as_json: bool) -> None:
    """Open SYMBOL's market (or every market) and execute what now can."""
    cli_state = state()
    runtime = cli_state.runtime()
    symbols = _listed(runtime, symbol)
    runtime.market.set_market_open(True, symbol)
    report = runtime.service.sweep(None if symbol is None else symbols)
    cli_state.process_stored()
    executed = _executed(runtime, report.executed)
    out = Printer(as_json)
    if as_json:
        out.json({"opened": symbols, "executed": executed, "failed": list(report.failed)})
    else:
        out.line(
            f"Opened {'every market' if symbol is None else symbols[0]}; "
            f"{len(executed)} resting order(s) executed."
        )


def _listed(runtime: Runtime, symbol: str | None) -> list[Symbol]:
    """SYMBOL (which must be listed), or every listed symbol."""
    listed = [asset.symbol for asset, _, _ in runtime.market.assets()]
    if symbol is None:
        return listed
    wanted = Symbol.parse(symbol)
    if wanted not in listed:
        context = click.get_current_context()
        argument = next(p for p in context.command.params if p.name == "symbol")
        raise click.BadParameter(
            f"{wanted} is not listed (see `orders market`)", ctx=context, param=argument
        )
    return [wanted]
