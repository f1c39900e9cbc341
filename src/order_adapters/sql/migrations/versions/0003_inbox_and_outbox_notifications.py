"""The inbox of consumed messages, a notification when outbox rows are
committed, and the check of a write that must change a row.

``order_inbox`` holds the id of each message a worker consumed, written in
the transaction of its effect, so a redelivered message changes nothing.
On PostgreSQL a statement-level trigger on ``order_outbox`` sends
``NOTIFY order_outbox`` (delivered at commit, and only then), which wakes the
relays at once instead of at their next poll. ``order_write_changed`` fails
the transaction when a write guarded by a version or a balance changed no row,
so the service sends that write and its COMMIT in one round trip.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION order_outbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('order_outbox', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
_WRITE_CHANGED = """
CREATE OR REPLACE FUNCTION order_write_changed(changed bigint, write_number int)
RETURNS void AS $$
BEGIN
    IF changed = 0 THEN
        RAISE EXCEPTION 'checked write % changed no row', write_number;
    END IF;
END;
$$ LANGUAGE plpgsql
"""
_NOTIFY_TRIGGER = """
CREATE TRIGGER order_outbox_notify AFTER INSERT ON order_outbox
FOR EACH STATEMENT EXECUTE FUNCTION order_outbox_notify()
"""


def upgrade() -> None:
    op.create_table(
        "order_inbox",
        sa.Column("message_id", sa.Uuid(), primary_key=True),
        sa.Column("consumer", sa.String(50), primary_key=True),
        sa.Column("processed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("idx_inbox_processed_at", "order_inbox", ["processed_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_NOTIFY_FUNCTION)
        op.execute(_NOTIFY_TRIGGER)
        op.execute(_WRITE_CHANGED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS order_outbox_notify ON order_outbox")
        op.execute("DROP FUNCTION IF EXISTS order_outbox_notify()")
        op.execute("DROP FUNCTION IF EXISTS order_write_changed(bigint, int)")
    op.drop_index("idx_inbox_processed_at", table_name="order_inbox")
    op.drop_table("order_inbox")
