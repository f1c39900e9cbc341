"""Schema migrations (Alembic, shipped in this package): bring any database to
the newest schema, from Python or from ``orders db upgrade``.

Alembic is imported only when a migration runs: a start-up that finds the
database at :data:`HEAD_REVISION` does not pay for it. Migrators queue: two
processes starting on a new database both succeed, one of them migrating.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import TYPE_CHECKING

import sqlalchemy as sa

from order_core.errors import DependencyUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "current_revision",
    "ensure_head",
    "head_revision",
    "schema_lock",
    "upgrade",
]

#: The newest migration's revision; a test keeps it equal to :func:`head_revision`.
HEAD_REVISION = "0003"

#: PostgreSQL advisory lock held while changing tables ("orders" in ASCII).
_MIGRATION_LOCK = 0x6F7264657273
#: Alembic keeps its migration context in one global: one migration per process.
_IN_PROCESS = threading.Lock()
#: Seconds a SQLite migrator waits for another to finish.
_SQLITE_WAIT = 30.0


def _config() -> Config:
    from alembic.config import Config  # noqa: PLC0415  # see the module docstring

    config = Config()
    config.set_main_option("script_location", str(files("order_adapters.sql") / "migrations"))
    return config


def _engine(url: str | sa.Engine, connect_timeout: float | None) -> sa.Engine:
    """``url``'s own short-lived engine (no pool), or the engine given."""
    if isinstance(url, sa.Engine):
        return url
    parsed = sa.make_url(url)
    arguments: dict[str, object] = {}
    if parsed.get_backend_name() == "sqlite":
        arguments["timeout"] = _SQLITE_WAIT
    elif connect_timeout is not None:
        arguments["connect_timeout"] = max(1, round(connect_timeout))
    return sa.create_engine(parsed, poolclass=sa.NullPool, connect_args=arguments)


@contextmanager
def _reachable() -> Iterator[None]:
    """A database that cannot be reached is a dependency down, not a bug."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
        reason = str(error.orig or error).strip().splitlines()
        raise DependencyUnavailable("database", reason[0] if reason else "unreachable") from error


@contextmanager
def schema_lock(connection: sa.Connection) -> Iterator[None]:
    """Hold the database's schema lock while changing tables: a second process
    doing the same waits, then finds nothing left to do. On SQLite the lock is
    a write transaction, committed by the caller."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})")
        try:
            yield
        finally:
            connection.rollback()  # a failed migration's transaction (nothing after a commit)
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")
            connection.commit()
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's one writer, from here
        yield


def upgrade(
    url: str | sa.Engine, revision: str = "head", *, connect_timeout: float | None = None
) -> None:
    """Apply every migration the database lacks (none if it is at head), in one
    transaction where the database allows it. ``connect_timeout`` (seconds)
    bounds reaching a server when ``url`` is a URL."""
    from alembic import command  # noqa: PLC0415  # see the module docstring

    engine = _engine(url, connect_timeout)
    try:
        with _IN_PROCESS, _reachable(), engine.connect() as connection, schema_lock(connection):
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        if engine is not url:
            engine.dispose()


def ensure_head(url: str | sa.Engine, *, connect_timeout: float | None = None) -> None:
    """Migrate the database unless it is already at :data:`HEAD_REVISION`."""
    if current_revision(url, connect_timeout=connect_timeout) != HEAD_REVISION:
        upgrade(url, connect_timeout=connect_timeout)


def head_revision() -> str:
    """The newest revision among the shipped migration scripts."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415  # see the module docstring

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(url: str | sa.Engine, *, connect_timeout: float | None = None) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine = _engine(url, connect_timeout)
    try:
        with _reachable(), engine.connect() as connection:
            # Alembic's own table, read without Alembic (one head: one row).
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            found = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            return found.scalars().first()
    finally:
        if engine is not url:
            engine.dispose()
