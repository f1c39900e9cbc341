"""The simulator's tables, kept beside the service's in the same database so
prices, cash and positions carry over between invocations.

They stand in for services the order service does not own (market data,
accounts, balances, positions), so they are created on first use rather than
by the service's migrations; a database whose tables an earlier release made
is brought up to date then (:mod:`order_adapters.simulated.store`).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["sim_accounts", "sim_assets", "sim_metadata", "sim_positions"]

sim_metadata = sa.MetaData()
Money = sa.Numeric(18, 8).with_variant(sa.BigInteger(), "sqlite")

sim_assets = sa.Table(
    "sim_assets",
    sim_metadata,
    sa.Column("symbol", sa.String(20), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("category", sa.String(50), nullable=False),
    sa.Column("price", Money, nullable=False),
    sa.Column("tick_size", Money),
    sa.Column("market_open", sa.Boolean(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
)

# Cash, and what of it open BUY orders hold. Which order holds how much is on
# the orders themselves (their estimated value), so no entry per order is kept
# here: a hold commits and rolls back with its order.
sim_accounts = sa.Table(
    "sim_accounts",
    sim_metadata,
    sa.Column("user_id", sa.Uuid(), primary_key=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("cash", Money, nullable=False),
    sa.Column("reserved", Money, nullable=False),
    # What the account was opened with, and when (the audit starts there).
    sa.Column("opening_cash", Money, nullable=False),
    sa.Column("opened_at", sa.DateTime(), nullable=False),
    sa.CheckConstraint("cash - reserved >= 0", name="ck_sim_accounts_available"),
    sa.CheckConstraint("reserved >= 0", name="ck_sim_accounts_reserved"),
)

# Holdings as the position keeper applied them; whether an execution is
# applied is on its order (orders.position_applied_at).
sim_positions = sa.Table(
    "sim_positions",
    sim_metadata,
    sa.Column("user_id", sa.Uuid(), primary_key=True),
    sa.Column("symbol", sa.String(20), primary_key=True),
    sa.Column("quantity", Money, nullable=False),
    sa.Column("opening_quantity", Money, nullable=False),
)
