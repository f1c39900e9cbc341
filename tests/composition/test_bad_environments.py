"""A library caller gets what the CLI turns into exit codes: a SettingsError
naming the setting for an environment to fix (before anything is made, when
that can be known without connecting), and DependencyUnavailable, not a
driver's error, for a database that goes bad while in use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from order_adapters.bootstrap import bootstrap, migrate
from order_adapters.settings import Settings, SettingsError
from order_adapters.sql.dialects import SqliteDialect
from order_core.errors import DependencyUnavailable
from tests.services import REDIS_URL, need


@pytest.mark.parametrize("build", [bootstrap, migrate], ids=["bootstrap", "migrate"])
def test_a_file_that_is_not_a_database_is_a_settings_error_and_is_left_alone(
    tmp_path: Path, build: object
) -> None:
    database = tmp_path / "orders.db"
    database.write_text("not a database")

    with pytest.raises(SettingsError) as refused:
        build(Settings.of(data_dir=tmp_path))  # type: ignore[operator]

    assert refused.value.variable == "ORDERS_DATA_DIR"
    assert refused.value.message.startswith(f"{database} is not a SQLite database")
    assert database.read_text() == "not a database"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["orders.db"]


def test_a_data_dir_that_is_a_file_is_a_settings_error(tmp_path: Path) -> None:
    file = tmp_path / "data"
    file.write_text("")

    with pytest.raises(SettingsError) as refused:
        bootstrap(Settings.of(data_dir=file))

    assert refused.value.variable == "ORDERS_DATA_DIR"
    assert refused.value.message == (
        f"{file} is not a folder: point it at a folder (it is created if missing)"
    )


@pytest.mark.parametrize("port", ["abc", "99999", "0"])
def test_a_postgresql_port_that_is_not_one_is_a_settings_error(port: str) -> None:
    url = f"postgresql+psycopg://u:secret@localhost:{port}/db"

    with pytest.raises(SettingsError) as refused:
        bootstrap(Settings.of(database_url=url))

    assert refused.value.variable == "ORDERS_DATABASE_URL"
    assert "the port must be a number from 1 to 65535" in refused.value.message
    assert "secret" not in refused.value.message


def test_a_redis_database_the_server_lacks_is_a_settings_error(tmp_path: Path) -> None:
    need("Redis")
    url = REDIS_URL.rsplit("/", 1)[0] + "/99"
    settings = Settings.of(data_dir=tmp_path, redis_url=url, redis_fallback=True)

    with pytest.raises(SettingsError) as refused:
        bootstrap(settings)  # the fallback is for Redis down, not for a wrong URL

    assert refused.value.variable == "ORDERS_REDIS_URL"
    assert "DB index is out of range" in refused.value.message


def test_a_database_file_gone_bad_while_in_use_is_a_dependency_down(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\1" * 4096)
    connection = sqlite3.connect(garbage)
    with pytest.raises(sqlite3.DatabaseError) as caught:
        connection.execute("PRAGMA schema_version")
    connection.close()

    translated = SqliteDialect().translate(caught.value)

    assert isinstance(translated, DependencyUnavailable)
    assert translated.message == "database is unavailable: file is not a database"
