"""Schema migrations (Alembic, shipped in this package): bring any database to
the newest schema, from Python or from ``orders db upgrade``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from order_core.errors import DependencyUnavailable

__all__ = ["current_revision", "head_revision", "upgrade"]


def _config() -> Config:
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
    engine = sa.create_engine(url) if isinstance(url, str) else url
    try:
        with _reachable(), engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if isinstance(url, str):
            engine.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(url: str | sa.Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine = sa.create_engine(url) if isinstance(url, str) else url
    try:
        with _reachable(), engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if isinstance(url, str):
            engine.dispose()
