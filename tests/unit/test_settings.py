"""Settings: ORDERS_* variables parsed and validated, flags over the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from order_adapters.settings import (
    DatabaseSettings,
    RedisSettings,
    Settings,
    SettingsError,
    variable_of,
)


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    settings = Settings.from_env({})

    assert settings.database.url is None
    assert settings.broker.url == "memory://"
    assert settings.redis.url is None
    assert settings.market_data.url == "simulated"
    assert settings.redis.prefix == "orders:idem:"
    assert settings.redis.fallback is False
    assert settings.idempotency.ttl == timedelta(hours=24)
    assert settings.database.pool_size == 10


def test_every_variable_is_read_and_converted(tmp_path: Path) -> None:
    env = {
        "ORDERS_DATABASE_URL": "postgresql+psycopg://app@db/orders",
        "ORDERS_BROKER_URL": "amqp://mq/",
        "ORDERS_REDIS_URL": "redis://cache:6379/2",
        "ORDERS_MARKET_DATA_URL": "grpc://market:50051",
        "ORDERS_DATA_DIR": str(tmp_path),
        "ORDERS_PRICES_FILE": str(tmp_path / "prices.json"),
        "ORDERS_DATABASE_AUTO_MIGRATE": "yes",
        "ORDERS_DATABASE_POOL_SIZE": "4",
        "ORDERS_DATABASE_MAX_OVERFLOW": "0",
        "ORDERS_DATABASE_POOL_TIMEOUT": "1.5",
        "ORDERS_DATABASE_CONNECT_TIMEOUT": "2",
        "ORDERS_DATABASE_STATEMENT_TIMEOUT": "3",
        "ORDERS_REDIS_PREFIX": "app:keys:",
        "ORDERS_REDIS_TIMEOUT": "0.25",
        "ORDERS_REDIS_POOL_SIZE": "8",
        "ORDERS_REDIS_FALLBACK": "TRUE",
        "ORDERS_IDEMPOTENCY_TTL": "3600",
        "ORDERS_IDEMPOTENCY_DERIVED_KEY_WINDOW": "0",
    }

    settings = Settings.from_env(env)

    assert settings.database == DatabaseSettings(
        url="postgresql+psycopg://app@db/orders",
        auto_migrate=True,
        pool_size=4,
        max_overflow=0,
        pool_timeout=1.5,
        connect_timeout=2.0,
        statement_timeout=3.0,
    )
    assert settings.broker.url == "amqp://mq/"  # read here; refused when wired
    assert settings.market_data.url == "grpc://market:50051"
    assert settings.redis == RedisSettings(
        url="redis://cache:6379/2", prefix="app:keys:", timeout=0.25, pool_size=8, fallback=True
    )
    assert settings.data_dir == tmp_path
    assert settings.prices_file == tmp_path / "prices.json"
    assert settings.idempotency.ttl == timedelta(hours=1)
    assert settings.idempotency.derived_key_window == timedelta(0)


def test_every_variable_name_is_orders_group_field() -> None:
    for setting, _ in Settings().flat():
        assert variable_of(setting) == "ORDERS_" + setting.upper()
    names = {variable_of(setting) for setting, _ in Settings().flat()}
    assert {"ORDERS_DATABASE_URL", "ORDERS_BROKER_URL", "ORDERS_REDIS_URL"} <= names
    assert {"ORDERS_MARKET_DATA_URL", "ORDERS_DATA_DIR", "ORDERS_IDEMPOTENCY_TTL"} <= names


def test_former_variable_names_are_still_read_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings.from_env({"ORDERS_DB_POOL_SIZE": "4", "ORDERS_DERIVED_KEY_WINDOW": "0"})

    assert settings.database.pool_size == 4
    assert settings.idempotency.derived_key_window == timedelta(0)
    assert "ORDERS_DB_POOL_SIZE is deprecated: set ORDERS_DATABASE_POOL_SIZE" in caplog.text


def test_a_malformed_former_variable_is_named_as_it_was_set() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"ORDERS_DB_POOL_SIZE": "many"})

    assert str(refused.value) == "ORDERS_DB_POOL_SIZE: must be a whole number, got 'many'"
    assert refused.value.setting == "database_pool_size"


def test_the_current_name_wins_over_a_former_one() -> None:
    env = {"ORDERS_DB_POOL_SIZE": "4", "ORDERS_DATABASE_POOL_SIZE": "6"}

    assert Settings.from_env(env).database.pool_size == 6


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"database_pool_size": "10"}, "must be a whole number, got str '10'"),
        ({"redis_fallback": 1}, "must be true or false, got int 1"),
        ({"database_pool_timeout": "5"}, "must be a number of seconds, got str '5'"),
        ({"idempotency_ttl": 60}, "must be a duration (timedelta), got int 60"),
        ({"database_url": 5}, "must be text, got int 5"),
    ],
)
def test_a_wrong_type_from_code_is_a_settings_error_naming_the_setting(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings().with_overrides(**changes)

    (setting,) = changes
    assert refused.value.setting == setting
    assert refused.value.message == message


def test_an_unknown_setting_from_code_is_refused() -> None:
    with pytest.raises(SettingsError, match="there is no setting 'db_pool_size'"):
        Settings().with_overrides(db_pool_size=3)


@pytest.mark.parametrize("raw", ["", "   "])
def test_a_blank_variable_keeps_the_default(raw: str) -> None:
    assert Settings.from_env({"ORDERS_DATABASE_POOL_SIZE": raw}).database.pool_size == 10


def test_the_home_directory_is_expanded_in_paths() -> None:
    settings = Settings.from_env({"ORDERS_DATA_DIR": "~/orders-data"})

    assert settings.data_dir == Path.home() / "orders-data"


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("ORDERS_DATABASE_POOL_SIZE", "ten", "must be a whole number, got 'ten'"),
        ("ORDERS_REDIS_FALLBACK", "maybe", "must be true or false, got 'maybe'"),
        ("ORDERS_DATABASE_AUTO_MIGRATE", "2", "must be true or false, got '2'"),
        ("ORDERS_REDIS_TIMEOUT", "fast", "must be a number of seconds, got 'fast'"),
        ("ORDERS_IDEMPOTENCY_TTL", "1d", "must be a number of seconds, got '1d'"),
        ("ORDERS_DATABASE_POOL_SIZE", "0", "must be at least 1"),
        ("ORDERS_REDIS_POOL_SIZE", "-2", "must be at least 1"),
        ("ORDERS_DATABASE_MAX_OVERFLOW", "-1", "must be 0 or more"),
        ("ORDERS_DATABASE_CONNECT_TIMEOUT", "0", "must be a positive number of seconds"),
        ("ORDERS_REDIS_TIMEOUT", "-0.5", "must be a positive number of seconds"),
        ("ORDERS_IDEMPOTENCY_TTL", "0", "must be a positive number of seconds"),
        ("ORDERS_IDEMPOTENCY_TTL", "inf", "must be a finite number of seconds, got 'inf'"),
        ("ORDERS_IDEMPOTENCY_TTL", "1e30", "is too long a number of seconds, got '1e30'"),
        (
            "ORDERS_DATABASE_STATEMENT_TIMEOUT",
            "nan",
            "must be a finite number of seconds, got 'nan'",
        ),
        ("ORDERS_IDEMPOTENCY_DERIVED_KEY_WINDOW", "-1", "must be 0 or more seconds"),
        (
            "ORDERS_IDEMPOTENCY_DERIVED_KEY_WINDOW",
            "1e12",
            "must be at most 315360000 seconds (3650 days)",
        ),
        ("ORDERS_IDEMPOTENCY_TTL", "315360001", "must be at most 315360000 seconds (3650 days)"),
    ],
)
def test_a_malformed_variable_is_refused_by_name(variable: str, raw: str, message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({variable: raw})

    assert refused.value.variable == variable
    assert refused.value.message == message
    assert str(refused.value) == f"{variable}: {message}"


def test_flags_override_the_environment_and_none_means_not_given(tmp_path: Path) -> None:
    from_env = Settings.from_env(
        {"ORDERS_DATABASE_URL": "sqlite:///env.db", "ORDERS_REDIS_URL": "redis://env"}
    )

    settings = from_env.with_overrides(database_url="memory://", redis_url=None, data_dir=tmp_path)

    assert settings.database.url == "memory://"
    assert settings.redis.url == "redis://env"
    assert settings.data_dir == tmp_path


def test_overrides_are_validated_too() -> None:
    with pytest.raises(SettingsError, match="ORDERS_DATABASE_POOL_SIZE: must be at least 1"):
        Settings().with_overrides(database_pool_size=0)


def test_the_default_database_is_a_sqlite_file_in_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)  # the top-level fields are plain keywords

    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'orders.db'}"
    assert settings.migrates_automatically


@pytest.mark.parametrize(
    ("url", "auto_migrate", "migrates"),
    [
        ("sqlite:///x.db", None, True),
        ("memory://", None, True),
        ("postgresql+psycopg://db/orders", None, False),
        ("postgresql+psycopg://db/orders", True, True),
        ("sqlite:///x.db", False, False),
    ],
)
def test_only_postgresql_waits_for_an_explicit_migration(
    url: str, auto_migrate: bool | None, migrates: bool
) -> None:
    settings = Settings.of(database_url=url, database_auto_migrate=auto_migrate)

    assert settings.migrates_automatically is migrates


def test_the_service_keeps_positions_exactly_when_they_are_simulated() -> None:
    assert Settings.of().keeps_positions
    # Market data elsewhere does not change who keeps the positions...
    assert Settings.of(market_data_url="grpc://market:50054").keeps_positions
    # ...the platform's position service does.
    assert not Settings.of(positions_url="grpc://positions:50055").keeps_positions
    assert Settings.of(positions_url="grpc://p:1", broker_keep_positions=True).keeps_positions
    assert not Settings.of(broker_keep_positions=False).keeps_positions
