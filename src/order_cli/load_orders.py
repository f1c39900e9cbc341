"""The orders and accounts a load run uses: load-test accounts with ample cash
and holdings, and random orders near the current prices (``orders load``, in
process or against a server)."""

from __future__ import annotations

import random
import uuid
from decimal import Decimal

from order_adapters.runtime import Runtime
from order_core import SubmitOrder, Symbol
from order_core.decimals import multiply, round_to

__all__ = ["LOAD_CASH", "LOAD_HOLDING", "open_accounts", "random_orders"]

LOAD_CASH = "10000000"
LOAD_HOLDING = "100000"
_CENT = Decimal("0.01")


def open_accounts(runtime: Runtime, accounts: list[uuid.UUID]) -> None:
    """Open each account with ample cash and holdings of every listed asset,
    unless it exists."""
    holdings: dict[Symbol | str, Decimal | str | int] = {
        asset.symbol: LOAD_HOLDING for asset, _, _ in runtime.market.assets()
    }
    for account in accounts:
        runtime.ledger.open_account(account, cash=LOAD_CASH, positions=holdings, if_missing=True)


def random_orders(
    runtime: Runtime,
    chooser: random.Random,
    accounts: list[uuid.UUID],
    count: int,
    *,
    market_only: bool = False,
) -> list[SubmitOrder]:
    """Random orders near the current prices: half market, the rest limit and
    stop (all market with ``market_only``)."""
    quotes = {asset.symbol: quote.price for asset, quote, _ in runtime.market.assets()}
    symbols = sorted(quotes)
    run = uuid.uuid4().hex[:8]  # keys of their own: a repeated seed is a new run, not a replay
    made = []
    for n in range(count):
        symbol = chooser.choice(symbols)
        market = quotes[symbol]
        side = chooser.choice(["BUY", "SELL"])
        kind = (
            "MARKET"
            if market_only
            else chooser.choices(["MARKET", "LIMIT", "STOP_LOSS", "STOP_LIMIT"], [5, 3, 1, 1])[0]
        )
        near = round_to(multiply(market, Decimal(1 + chooser.uniform(-0.03, 0.03))), _CENT)
        made.append(
            SubmitOrder(
                user_id=chooser.choice(accounts),
                symbol=Symbol(symbol),
                order_type=kind,
                order_side=side,
                quantity=str(chooser.randint(1, 10)),
                price=near if kind in ("LIMIT", "STOP_LIMIT") else None,
                stop_price=near if kind in ("STOP_LOSS", "STOP_LIMIT") else None,
                idempotency_key=f"load-{run}-{n}",
            )
        )
    return made
