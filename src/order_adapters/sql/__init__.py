"""SQL persistence for PostgreSQL (psycopg 3) and SQLite: the system of record.

Needs the ``sql`` extra (``postgres`` for PostgreSQL). ``upgrade(url)`` brings a
database to the newest schema; ``SqlDatabase.from_url(url)`` gives units of
work, the outbox relay's view and the idempotency store.
"""

from importlib.util import find_spec

if find_spec("sqlalchemy") is None or find_spec("alembic") is None:
    raise ImportError(
        "the SQL adapters need SQLAlchemy and Alembic: pip install 'order-service[sql]' "
        "(or 'order-service[postgres]' for PostgreSQL)"
    )

from order_adapters.sql.database import PoolSettings, SqlDatabase
from order_adapters.sql.idempotency import SqlIdempotencyStore
from order_adapters.sql.migrate import (
    HEAD_REVISION,
    current_revision,
    ensure_head,
    head_revision,
    upgrade,
)
from order_adapters.sql.outbox import SqlOutbox
from order_adapters.sql.unit_of_work import SqlUnitOfWork

__all__ = [
    "HEAD_REVISION",
    "PoolSettings",
    "SqlDatabase",
    "SqlIdempotencyStore",
    "SqlOutbox",
    "SqlUnitOfWork",
    "current_revision",
    "ensure_head",
    "head_revision",
    "upgrade",
]
