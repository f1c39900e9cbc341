"""The simulator's tables, kept beside the service's in the same database so
prices, cash and positions carry over between invocations.

They stand in for services the order service does not own (market data,
accounts, balances, positions), so they are created on first use rather than
by the service's migrations.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "sim_accounts",
    "sim_applied_executions",
    "sim_assets",
    "sim_cash_entries",
    "sim_metadata",
    "sim_position_holds",
    "sim_positions",
]

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

sim_accounts = sa.Table(
    "sim_accounts",
    sim_metadata,
    sa.Column("user_id", sa.Uuid(), primary_key=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("cash", Money, nullable=False),
    sa.Column("reserved", Money, nullable=False),
)

# The cash one order has moved: its hold, its settlement (negative for a
# deduct), whether it settled, whether it was reversed for good.
sim_cash_entries = sa.Table(
    "sim_cash_entries",
    sim_metadata,
    sa.Column("order_id", sa.Uuid(), primary_key=True),
    sa.Column("user_id", sa.Uuid(), nullable=False),
    sa.Column("reserved", Money, nullable=False),
    sa.Column("settled", Money, nullable=False),
    sa.Column("is_settled", sa.Boolean(), nullable=False),
    sa.Column("is_reversed", sa.Boolean(), nullable=False),
)

sim_positions = sa.Table(
    "sim_positions",
    sim_metadata,
    sa.Column("user_id", sa.Uuid(), primary_key=True),
    sa.Column("symbol", sa.String(20), primary_key=True),
    sa.Column("quantity", Money, nullable=False),
    sa.Column("reserved", Money, nullable=False),
)

sim_position_holds = sa.Table(
    "sim_position_holds",
    sim_metadata,
    sa.Column("order_id", sa.Uuid(), primary_key=True),
    sa.Column("user_id", sa.Uuid(), nullable=False),
    sa.Column("symbol", sa.String(20), nullable=False),
    sa.Column("quantity", Money, nullable=False),
)

sim_applied_executions = sa.Table(
    "sim_applied_executions",
    sim_metadata,
    sa.Column("order_id", sa.Uuid(), primary_key=True),
)
