"""Money moves in the order's transaction: retry and position columns on
orders, the deployed table's CHECK constraints, the per-user lock table, and
the index of quantities in flight replacing the one of open orders.

Orders executed before this revision are marked applied: the previous release
applied positions on its own (the simulator recorded which in
``sim_applied_executions``; where that table exists, only the orders it names
are marked, and the rest are left for the position keeper).

SQLite cannot add a CHECK constraint to a table: there ``orders`` is rebuilt
(Alembic's batch mode, from the 0001 definition below rather than reflection,
so no column type or index detail is lost), and its indexes made again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_MONEY = sa.Numeric(18, 8).with_variant(sa.BigInteger(), "sqlite")
_OPEN = sa.text("status IN ('PENDING', 'PROCESSING')")
_IN_FLIGHT = sa.text(
    "status IN ('PENDING', 'PROCESSING') OR (status = 'EXECUTED' AND position_applied_at IS NULL)"
)
_CHECKS = {
    "ck_orders_status": "status IN ('PENDING', 'PROCESSING', 'EXECUTED', 'FAILED', 'CANCELLED')",
    "ck_orders_side": "order_side IN ('BUY', 'SELL')",
    "ck_orders_type": "order_type IN ('MARKET', 'LIMIT', 'STOP_LOSS', 'STOP_LIMIT')",
    "ck_orders_quantity": "quantity > 0",
    "ck_orders_price": "price > 0",
    "ck_orders_stop_price": "stop_price > 0",
}
#: orders' indexes as 0001 made them (a SQLite rebuild drops them all).
_INDEXES_0001: tuple[tuple[str, list[str | sa.TextClause]], ...] = (
    ("idx_orders_user_id", ["user_id"]),
    ("idx_orders_status", ["status"]),
    ("idx_orders_symbol", ["symbol"]),
    ("idx_orders_created_at", [sa.text("created_at DESC")]),
    ("idx_orders_user_created", ["user_id", "created_at", "id"]),
    ("idx_orders_status_created", ["status", "created_at", "id"]),
)


def _orders_0001() -> sa.Table:
    """``orders`` as revision 0001 made it: what a SQLite rebuild copies from."""
    return sa.Table(
        "orders",
        sa.MetaData(),
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("order_type", sa.String(20), nullable=False),
        sa.Column("order_side", sa.String(10), nullable=False),
        sa.Column("quantity", _MONEY, nullable=False),
        sa.Column("price", _MONEY),
        sa.Column("stop_price", _MONEY),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
        sa.Column("executed_at", sa.DateTime()),
        sa.Column("execution_price", _MONEY),
        sa.Column("market_price_at_submission", _MONEY),
        sa.Column("market_data_timestamp", sa.DateTime()),
        sa.Column("failure_reason", sa.Text()),
        sa.Column("triggered_at", sa.DateTime()),
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("idx_orders_open", table_name="orders")
    if sqlite:
        for name, _ in _INDEXES_0001:
            op.drop_index(name, table_name="orders")
    with op.batch_alter_table("orders", copy_from=_orders_0001() if sqlite else None) as batch:
        batch.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime()))
        batch.add_column(sa.Column("position_applied_at", sa.DateTime()))
        for name, condition in _CHECKS.items():
            batch.create_check_constraint(name, condition)
    if sqlite:
        for name, columns in _INDEXES_0001:
            op.create_index(name, "orders", columns)
    op.create_index(
        "idx_orders_in_flight",
        "orders",
        ["user_id", "symbol", "order_side"],
        postgresql_where=_IN_FLIGHT,
        sqlite_where=_IN_FLIGHT,
    )
    op.create_table("order_users", sa.Column("user_id", sa.Uuid(), primary_key=True))
    _mark_executed_orders_applied()


def _mark_executed_orders_applied() -> None:
    applied = "UPDATE orders SET position_applied_at = COALESCE(executed_at, updated_at) "
    applied += "WHERE status = 'EXECUTED'"
    if sa.inspect(op.get_bind()).has_table("sim_applied_executions"):
        applied += " AND id IN (SELECT order_id FROM sim_applied_executions)"
    op.execute(applied)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_table("order_users")
    op.drop_index("idx_orders_in_flight", table_name="orders")
    if sqlite:
        for name, _ in _INDEXES_0001:
            op.drop_index(name, table_name="orders")
        # Rebuilt as 0001 defined it: the new columns and the checks are left behind.
        with op.batch_alter_table("orders", copy_from=_orders_0001(), recreate="always"):
            pass
        for name, columns in _INDEXES_0001:
            op.create_index(name, "orders", columns)
    else:
        with op.batch_alter_table("orders") as batch:
            for name in _CHECKS:
                batch.drop_constraint(name, type_="check")
            batch.drop_column("position_applied_at")
            batch.drop_column("next_attempt_at")
            batch.drop_column("attempts")
    op.create_index(
        "idx_orders_open",
        "orders",
        ["user_id", "symbol", "order_side"],
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )
