"""Schema migrations (Alembic, shipped in this package): bring any database to
the newest schema, from Python or from ``orders db upgrade``.

Alembic is imported only when a migration runs: a start-up that finds the
database at :data:`HEAD_REVISION` does not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import TYPE_CHECKING

import sqlalchemy as sa

from order_core.errors import DependencyUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["HEAD_REVISION", "current_revision", "ensure_head", "head_revision", "upgrade"]

#: The newest migration's revision; a test keeps it equal to :func:`head_revision`.
HEAD_REVISION = "0001"


def _config() -> Config:
    from alembic.config import Config  # noqa: PLC0415  # see the module docstring

    config = Config()
    config.set_main_option("script_location", str(files("order_adapters.sql") / "migrations"))
    return config


@contextmanager
def _reachable() -> Iterator[None]:
    """A database that cannot be reached is a dependency down, not a bug."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
        reason = str(error.orig or error).strip().splitlines()
        raise DependencyUnavailable("database", reason[0] if reason else "unreachable") from error


def upgrade(url: str | sa.Engine, revision: str = "head") -> None:
    """Apply every migration the database lacks (none if it is at head).
    A fresh database and an already-migrated one both end at head."""
    from alembic import command  # noqa: PLC0415  # see the module docstring

    engine = sa.create_engine(url) if isinstance(url, str) else url
    try:
        with _reachable(), engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if isinstance(url, str):
            engine.dispose()


def ensure_head(url: str | sa.Engine) -> None:
    """Migrate the database unless it is already at :data:`HEAD_REVISION`."""
    if current_revision(url) != HEAD_REVISION:
        upgrade(url)


def head_revision() -> str:
    """The newest revision among the shipped migration scripts."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415  # see the module docstring

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(url: str | sa.Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine = sa.create_engine(url) if isinstance(url, str) else url
    try:
        with _reachable(), engine.connect() as connection:
            # Alembic's own table, read without Alembic (one head: one row).
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            found = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            return found.scalars().first()
    finally:
        if isinstance(url, str):
            engine.dispose()
