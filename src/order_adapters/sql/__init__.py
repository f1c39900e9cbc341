"""SQL persistence for PostgreSQL (psycopg 3) and SQLite: the system of record.

Needs the ``sql`` extra (``postgres`` for PostgreSQL). ``upgrade(url)`` brings a
database to the newest schema; ``SqlDatabase.from_url(url)`` gives units of
work, the outbox relay's view and the idempotency store.

Adapters keeping tables of their own in the same database (the simulated
services) build on ``pooled_connection``, ``Dialect``, ``Sql``,
``dialect_insert`` and ``schema_lock``; one that moves money with the orders
(the simulated ledger) is attached with ``SqlDatabase.attach_ledger`` and works
on each unit of work's ``Session``.
"""

from importlib.util import find_spec

if find_spec("sqlalchemy") is None or find_spec("alembic") is None:
    raise ImportError(
        "the SQL adapters need SQLAlchemy and Alembic: pip install 'order-service[sql]' "
        "(or 'order-service[postgres]' for PostgreSQL)"
    )

from order_adapters.sql.database import SqlDatabase
from order_adapters.sql.dialects import Dialect, Sql
from order_adapters.sql.idempotency import SqlIdempotencyStore
from order_adapters.sql.migrate import (
    HEAD_REVISION,
    current_revision,
    ensure_head,
    head_revision,
    schema_lock,
    upgrade,
)
from order_adapters.sql.outbox import SqlOutbox
from order_adapters.sql.session import Session, pooled_connection, translated
from order_adapters.sql.statements import dialect_insert
from order_adapters.sql.unit_of_work import LedgerFactory, SqlUnitOfWork

__all__ = [
    "HEAD_REVISION",
    "Dialect",
    "LedgerFactory",
    "Session",
    "Sql",
    "SqlDatabase",
    "SqlIdempotencyStore",
    "SqlOutbox",
    "SqlUnitOfWork",
    "current_revision",
    "dialect_insert",
    "ensure_head",
    "head_revision",
    "pooled_connection",
    "schema_lock",
    "translated",
    "upgrade",
]
