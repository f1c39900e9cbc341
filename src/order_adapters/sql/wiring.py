"""Wiring of ``sqlite://`` and ``postgresql://``: URL checks, the migration
check at start, and the database with its pool."""

from __future__ import annotations

import contextlib
import os
import sqlite3
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
    except ValueError:  # SQLAlchemy reads the port with int()
        raise SettingsError(
            f"{redacted(url)!r} is not a database URL: the port must be a number from "
            f"1 to 65535: {_FIX}",
            setting="database_url",
        ) from None
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise SettingsError(
            f"{redacted(url)!r} is not a database URL: the port must be a number from "
            f"1 to 65535, not {parsed.port}",
            setting="database_url",
        )
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
    if settings.database.url is None:
        _check_data_dir(settings.data_path)
    folder = file.resolve().parent
    if settings.database.url is not None and not folder.is_dir():
        raise SettingsError(f"the folder {folder} does not exist", setting="database_url")
    if file.is_dir():
        raise SettingsError(
            f"{file} is a folder, not a database file: {_elsewhere(settings)}",
            setting=_file_setting(settings),
        )
    return parsed.set(database=str(file)).render_as_string(hide_password=False)


def _check_data_dir(data_dir: Path) -> None:
    """The data directory is a folder, or can be made one (nothing is created)."""
    existing = data_dir
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        where = "" if existing == data_dir else f" ({existing} is a file)"
        raise SettingsError(
            f"{data_dir} is not a folder{where}: point it at a folder (it is created if missing)",
            setting="data_dir",
        )


def open_database(settings: Settings, url: str, resources: ExitStack) -> tuple[SqlDatabase, str]:
    """The database at ``url``, migrated (or checked to be at the newest
    schema, as the settings say), with the pool the settings describe."""
    _create_default_folder(settings)
    _check_sqlite_file(settings, url)
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
    _check_sqlite_file(settings, url)
    timeout = settings.database.connect_timeout
    ensure_head(url, connect_timeout=timeout)
    return current_revision(url, connect_timeout=timeout)


def _create_default_folder(settings: Settings) -> None:
    if settings.database.url is None:
        try:
            settings.data_path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SettingsError(
                f"cannot create the folder {settings.data_path} ({error.strerror or error})",
                setting="data_dir",
            ) from None


def _file_setting(settings: Settings) -> str:
    """The setting that chose the SQLite file: the URL, or the data directory."""
    return "data_dir" if settings.database.url is None else "database_url"


def _elsewhere(settings: Settings) -> str:
    """How to choose another SQLite file."""
    if settings.database.url is None:
        return "point the data directory elsewhere"
    return "use another file"


def _check_sqlite_file(settings: Settings, url: str) -> None:
    """A SQLite file the service can use, or a :class:`SettingsError` naming it:
    writable (SQLite also writes its journal beside it, so its folder must be
    writable too), and a database, not some other file. Run before the first
    connection, whose errors would be the driver's ("attempt to write a
    readonly database", "file is not a database") and not say which file."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    file = Path(parsed.database)
    setting = _file_setting(settings)
    folder = file.resolve().parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SettingsError(
            f"the folder {folder} of the database file is read-only (SQLite writes its "
            f"journal there): make it writable, or {_elsewhere(settings)}",
            setting=setting,
        )
    if not file.exists():
        return  # created by the migration, in a folder that takes it
    if not os.access(file, os.R_OK | os.W_OK):
        raise SettingsError(
            f"the database file {file} is read-only: make it writable, or {_elsewhere(settings)}",
            setting=setting,
        )
    problem = _not_a_database(file)
    if problem is not None:
        raise SettingsError(
            f"{file} is not a SQLite database ({problem}): move it aside, or "
            f"{_elsewhere(settings)}",
            setting=setting,
        )


def _not_a_database(file: Path) -> str | None:
    """What SQLite says when it reads ``file``'s header, if it is not a database
    (read-only: nothing is created or changed)."""
    try:
        connection = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None  # not ours to judge here: the first connection reports it
    try:
        connection.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as error:
        if error.sqlite_errorname in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
            return str(error)
        return None  # busy, locked...: a dependency problem, reported when it is used
    finally:
        with contextlib.suppress(sqlite3.Error):
            connection.close()
    return None


def _require_psycopg() -> None:
    try:
        import psycopg  # noqa: F401, PLC0415  # the postgres extra
    except ImportError as error:
        raise SettingsError(
            f"postgresql needs the 'postgres' extra: pip install 'order-service[postgres]' "
            f"({error})",
            setting="database_url",
        ) from error
