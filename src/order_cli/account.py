"""``orders account``: a simulated account's cash and positions."""

from __future__ import annotations

import click

from order_cli.options import json_option, user_option
from order_cli.output import Printer
from order_cli.state import runs, state
from order_core.decimals import add
from order_core.errors import ErrorCategory, OrderError, RejectionCode
from order_core.values import parse_uuid

__all__ = ["account"]


class _NoAccount(OrderError):
    """The user has no simulated account: nothing to show, as for an unknown order."""

    default_code = RejectionCode.ACCOUNT_NOT_FOUND
    category = ErrorCategory.NOT_FOUND


@click.command()
@user_option
@json_option
@runs
def account(user: str, as_json: bool) -> None:
    """Cash (what open BUY orders hold back) and positions of the user."""
    runtime = state().runtime()
    user_id = parse_uuid(user, field="user_id")
    if not runtime.ledger.has_account(user_id):
        raise _NoAccount(
            f"user {user_id} has no trading account",
            field="user_id",
            value=str(user_id),
        )
    balance = runtime.ledger.balances.get_balance(user_id)
    positions = []
    for symbol, quantity in sorted(runtime.ledger.holdings(user_id).items()):
        # Shares are held back by the user's open SELLs and unapplied executions.
        selling = runtime.service.get_pending_quantities(user_id, symbol).selling
        positions.append((symbol, quantity, selling, add(quantity, -selling)))
    document = {
        "user_id": user_id,
        "cash": balance.cash,
        "reserved": balance.reserved,
        "available": balance.available,
        "positions": [
            {"symbol": symbol, "quantity": quantity, "reserved": held, "available": available}
            for symbol, quantity, held, available in positions
        ],
    }
    out = Printer(as_json)
    if as_json:
        out.json(document)
        return
    out.fields(
        f"Account {user_id}",
        {key: document[key] for key in ("cash", "reserved", "available")},
    )
    out.rows(
        "Positions",
        ["symbol", "quantity", "reserved", "available"],
        ([symbol, quantity, held, available] for symbol, quantity, held, available in positions),
    )
