"""SQL persistence for PostgreSQL (psycopg 3) and SQLite: the system of record.

Needs the ``sql`` extra (``postgres`` for PostgreSQL). ``upgrade(url)`` brings a
database to the newest schema; ``SqlDatabase.from_url(url)`` gives units of
work, the outbox relay's view and the idempotency store.
"""

try:
    import alembic  # noqa: F401
    import sqlalchemy  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError(
        "the SQL adapters need SQLAlchemy and Alembic: pip install 'order-service[sql]' "
        "(or 'order-service[postgres]' for PostgreSQL)"
    ) from error

from order_adapters.sql.database import PoolSettings, SqlDatabase
from order_adapters.sql.idempotency import SqlIdempotencyStore
from order_adapters.sql.migrate import current_revision, head_revision, upgrade
from order_adapters.sql.outbox import SqlOutbox
from order_adapters.sql.unit_of_work import SqlUnitOfWork

__all__ = [
    "PoolSettings",
    "SqlDatabase",
    "SqlIdempotencyStore",
    "SqlOutbox",
    "SqlUnitOfWork",
    "current_revision",
    "head_revision",
    "upgrade",
]
