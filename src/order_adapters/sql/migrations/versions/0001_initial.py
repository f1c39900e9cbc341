"""orders, order_idempotency (docs/contracts.md) and the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_MONEY = sa.Numeric(18, 8).with_variant(sa.BigInteger(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_OPEN = sa.text("status IN ('PENDING', 'PROCESSING')")
_UNSENT = sa.text("sent_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "orders",
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
    op.create_index("idx_orders_user_id", "orders", ["user_id"])
    op.create_index("idx_orders_status", "orders", ["status"])
    op.create_index("idx_orders_symbol", "orders", ["symbol"])
    op.create_index("idx_orders_created_at", "orders", [sa.text("created_at DESC")])
    op.create_index("idx_orders_user_created", "orders", ["user_id", "created_at", "id"])
    op.create_index("idx_orders_status_created", "orders", ["status", "created_at", "id"])
    op.create_index(
        "idx_orders_open",
        "orders",
        ["user_id", "symbol", "order_side"],
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )

    op.create_table(
        "order_idempotency",
        sa.Column("idempotency_key", sa.String(255), primary_key=True),
        sa.Column("order_id", sa.Uuid(), sa.ForeignKey("orders.id", name="fk_order")),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(50), nullable=False),
        sa.Column("response_data", _JSON),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("request_fingerprint", sa.Text(), nullable=False),
        sa.Column("owner_token", sa.String(64), nullable=False),
    )
    op.create_index("idx_idempotency_user_id", "order_idempotency", ["user_id"])
    op.create_index("idx_idempotency_expires_at", "order_idempotency", ["expires_at"])

    op.create_table(
        "order_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("message_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("event_type", sa.String(50), nullable=False),
        sa.Column("aggregate_id", sa.Uuid(), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime()),
    )
    op.create_index(
        "idx_outbox_unsent", "order_outbox", ["id"], postgresql_where=_UNSENT, sqlite_where=_UNSENT
    )


def downgrade() -> None:
    op.drop_table("order_outbox")
    op.drop_table("order_idempotency")
    op.drop_table("orders")
