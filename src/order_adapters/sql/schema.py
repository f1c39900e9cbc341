"""The tables: ``orders`` and ``order_idempotency`` as the seed defines them (docs/contracts.md)
(without the foreign key to the monolith's ``users`` table), plus ``stop_price``,
``triggered_at``, ``version``, the retry columns, ``position_applied_at`` and the
deployed table's CHECK constraints on orders, the request fingerprint and owner
token on idempotency records, the transactional outbox, and ``order_users``:
one row per user, locked by every transaction that moves the user's orders or
money (migrations 0001 and 0002 make exactly these).

Money and quantities are ``DECIMAL(18, 8)`` on PostgreSQL. SQLite has no exact
decimal type, so there they are integers scaled by 10^8: exact, ordered and
summable in SQL. Timestamps are ``TIMESTAMP`` holding UTC, as in the seed.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = [
    "IN_FLIGHT",
    "ORDER_COLUMNS",
    "metadata",
    "order_idempotency",
    "order_inbox",
    "order_outbox",
    "order_users",
    "orders",
]

metadata = sa.MetaData()

Money = sa.Numeric(18, 8).with_variant(sa.BigInteger(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
#: Orders whose quantity is still to move the user's holding: open ones, and
#: executed ones whose position update is not applied yet. The predicate of the
#: partial index the risk reads use; queries repeat it word for word so the
#: planner (SQLite's above all) matches the index.
IN_FLIGHT = (
    "status IN ('PENDING', 'PROCESSING') OR (status = 'EXECUTED' AND position_applied_at IS NULL)"
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("user_id", sa.Uuid(), nullable=False),
    sa.Column("symbol", sa.String(20), nullable=False),
    sa.Column("order_type", sa.String(20), nullable=False),
    sa.Column("order_side", sa.String(10), nullable=False),
    sa.Column("quantity", Money, nullable=False),
    sa.Column("price", Money),
    sa.Column("stop_price", Money),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    sa.Column("executed_at", sa.DateTime()),
    sa.Column("execution_price", Money),
    sa.Column("market_price_at_submission", Money),
    sa.Column("market_data_timestamp", sa.DateTime()),
    sa.Column("failure_reason", sa.Text()),
    sa.Column("triggered_at", sa.DateTime()),
    sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("next_attempt_at", sa.DateTime()),
    sa.Column("position_applied_at", sa.DateTime()),
    # The deployed table's constraints (docs/contracts.md).
    sa.CheckConstraint(
        "status IN ('PENDING', 'PROCESSING', 'EXECUTED', 'FAILED', 'CANCELLED')",
        name="ck_orders_status",
    ),
    sa.CheckConstraint("order_side IN ('BUY', 'SELL')", name="ck_orders_side"),
    sa.CheckConstraint(
        "order_type IN ('MARKET', 'LIMIT', 'STOP_LOSS', 'STOP_LIMIT')", name="ck_orders_type"
    ),
    sa.CheckConstraint("quantity > 0", name="ck_orders_quantity"),
    sa.CheckConstraint("price > 0", name="ck_orders_price"),
    sa.CheckConstraint("stop_price > 0", name="ck_orders_stop_price"),
    # The seed's indexes...
    sa.Index("idx_orders_user_id", "user_id"),
    sa.Index("idx_orders_status", "status"),
    sa.Index("idx_orders_symbol", "symbol"),
    sa.Index("idx_orders_created_at", sa.text("created_at DESC")),
    # ...and those the queries need: history, counts and date ranges per user
    # (newest first, ties by id), sweeps (oldest first), and the quantities in
    # flight per user, symbol and side (risk reads; recovery scans it whole).
    sa.Index("idx_orders_user_created", "user_id", "created_at", "id"),
    sa.Index("idx_orders_status_created", "status", "created_at", "id"),
    sa.Index(
        "idx_orders_in_flight",
        "user_id",
        "symbol",
        "order_side",
        postgresql_where=sa.text(IN_FLIGHT),
        sqlite_where=sa.text(IN_FLIGHT),
    ),
)

#: The column order every query selects and every row mapper reads.
ORDER_COLUMNS = tuple(column.name for column in orders.columns)

order_idempotency = sa.Table(
    "order_idempotency",
    metadata,
    sa.Column("idempotency_key", sa.String(255), primary_key=True),
    # Nullable, unlike the seed: a stored rule rejection has no order.
    sa.Column("order_id", sa.Uuid(), sa.ForeignKey("orders.id", name="fk_order")),
    sa.Column("user_id", sa.Uuid(), nullable=False),
    sa.Column("status", sa.String(50), nullable=False),
    sa.Column("response_data", Json),
    sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(), nullable=False),
    sa.Column("request_fingerprint", sa.Text(), nullable=False),
    sa.Column("owner_token", sa.String(64), nullable=False),
    sa.Index("idx_idempotency_user_id", "user_id"),
    sa.Index("idx_idempotency_expires_at", "expires_at"),
)

#: One row per user who ever traded: a transaction moving the user's orders or
#: money upserts it first, which locks it until the transaction ends.
order_users = sa.Table(
    "order_users",
    metadata,
    sa.Column("user_id", sa.Uuid(), primary_key=True),
)

_UNSENT = sa.text("sent_at IS NULL")

order_outbox = sa.Table(
    "order_outbox",
    metadata,
    # The sequence orders the outbox: relays hand messages out oldest first.
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("message_id", sa.Uuid(), nullable=False, unique=True),
    sa.Column("event_type", sa.String(50), nullable=False),
    sa.Column("aggregate_id", sa.Uuid(), nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("sent_at", sa.DateTime()),
    sa.Index("idx_outbox_unsent", "id", postgresql_where=_UNSENT, sqlite_where=_UNSENT),
)

#: Messages consumed, each recorded in the transaction of its effect (migration
#: 0003): a redelivery finds its id here and changes nothing. Kept longer than
#: the longest retry path, then forgotten by recovery.
order_inbox = sa.Table(
    "order_inbox",
    metadata,
    sa.Column("message_id", sa.Uuid(), primary_key=True),
    sa.Column("consumer", sa.String(50), primary_key=True),
    sa.Column("processed_at", sa.DateTime(), nullable=False),
    sa.Index("idx_inbox_processed_at", "processed_at"),
)
