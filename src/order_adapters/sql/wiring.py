"""Wiring of ``sqlite://`` and ``postgresql://``: URL checks, the migration
check at start, and the database with its pool."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import sqlalchemy as sa

from order_adapters.settings import Settings, SettingsError
from order_adapters.sql.database import SqlDatabase
from order_adapters.sql.migrate import HEAD_REVISION, current_revision, ensure_head
from order_adapters.urls import redacted

__all__ = ["check", "migrate", "open_database"]

_FIX = "use sqlite:///path/to/orders.db or postgresql+psycopg://user@host/db"


def check(settings: Settings) -> str:
    """The URL to open: ``postgresql://`` means psycopg 3 (the one PostgreSQL
    driver supported), ``~`` in a SQLite path is the home folder. Raises
    :class:`SettingsError` naming the fix; creates nothing."""
    url = settings.resolved_database_url
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise SettingsError(
            f"{redacted(url)!r} is not a database URL: {_FIX}", setting="database_url"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgresql":
        if driver not in ("", "psycopg"):
            raise SettingsError(
                f"the {driver!r} driver is not supported: use postgresql+psycopg://...",
                setting="database_url",
            )
        _require_psycopg()
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if driver not in ("", "pysqlite"):
        raise SettingsError(
            f"{redacted(url)!r} is not supported: use sqlite:///path/to/orders.db, "
            "postgresql+psycopg://user@host/db or memory://",
            setting="database_url",
        )
    path = parsed.database if not parsed.host else None
    if not path or path == ":memory:":
        raise SettingsError(
            f"{redacted(url)!r} is not a SQLite file URL: use sqlite:///relative/path.db, "
            "sqlite:////absolute/path.db, or memory:// for a run that keeps nothing",
            setting="database_url",
        )
    file = Path(path).expanduser()
    folder = file.resolve().parent
    if settings.database.url is not None and not folder.is_dir():
        raise SettingsError(f"the folder {folder} does not exist", setting="database_url")
    return parsed.set(database=str(file)).render_as_string(hide_password=False)


def open_database(settings: Settings, url: str, resources: ExitStack) -> tuple[SqlDatabase, str]:
    """The database at ``url``, migrated (or checked to be at the newest
    schema, as the settings say), with the pool the settings describe."""
    _create_default_folder(settings)
    timeout = settings.database.connect_timeout
    if settings.migrates_automatically:
        ensure_head(url, connect_timeout=timeout)
    else:
        current = current_revision(url, connect_timeout=timeout)
        if current != HEAD_REVISION:
            raise SettingsError(
                f"the database at {redacted(url)} is at schema revision {current or 'none'}, "
                f"not {HEAD_REVISION}: run `orders db upgrade` (or set "
                "ORDERS_DATABASE_AUTO_MIGRATE=true)"
            )
    database = SqlDatabase.from_url(url, settings.database)
    resources.callback(database.dispose)
    return database, redacted(url)


def migrate(settings: Settings, url: str) -> str | None:
    """Bring the database to the newest schema; the revision it is at."""
    _create_default_folder(settings)
    timeout = settings.database.connect_timeout
    ensure_head(url, connect_timeout=timeout)
    return current_revision(url, connect_timeout=timeout)


def _create_default_folder(settings: Settings) -> None:
    if settings.database.url is None:
        settings.data_path.mkdir(parents=True, exist_ok=True)


def _require_psycopg() -> None:
    try:
        import psycopg  # noqa: F401, PLC0415  # the postgres extra
    except ImportError as error:
        raise SettingsError(
            f"postgresql needs the 'postgres' extra: pip install 'order-service[postgres]' "
            f"({error})",
            setting="database_url",
        ) from error
