"""Settings: ORDERS_* variables parsed and validated, flags over the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from order_adapters.settings import Settings, SettingsError


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    settings = Settings.from_env({})

    assert settings.database_url is None
    assert settings.broker_url == "memory://"
    assert settings.redis_url is None
    assert settings.market_data_url == "simulated"
    assert settings.redis_prefix == "orders:idem:"
    assert settings.redis_fallback is False
    assert settings.idempotency_ttl == timedelta(hours=24)
    assert settings.db_pool_size == 10


def test_every_variable_is_read_and_converted(tmp_path: Path) -> None:
    env = {
        "ORDERS_DATABASE_URL": "postgresql+psycopg://app@db/orders",
        "ORDERS_BROKER_URL": "amqp://mq/",
        "ORDERS_REDIS_URL": "redis://cache:6379/2",
        "ORDERS_MARKET_DATA_URL": "grpc://market:50051",
        "ORDERS_DATA_DIR": str(tmp_path),
        "ORDERS_PRICES_FILE": str(tmp_path / "prices.json"),
        "ORDERS_AUTO_MIGRATE": "yes",
        "ORDERS_DB_POOL_SIZE": "4",
        "ORDERS_DB_MAX_OVERFLOW": "0",
        "ORDERS_DB_POOL_TIMEOUT": "1.5",
        "ORDERS_DB_CONNECT_TIMEOUT": "2",
        "ORDERS_DB_STATEMENT_TIMEOUT": "3",
        "ORDERS_REDIS_PREFIX": "app:keys:",
        "ORDERS_REDIS_TIMEOUT": "0.25",
        "ORDERS_REDIS_POOL_SIZE": "8",
        "ORDERS_REDIS_FALLBACK": "TRUE",
        "ORDERS_IDEMPOTENCY_TTL": "3600",
        "ORDERS_DERIVED_KEY_WINDOW": "0",
    }

    settings = Settings.from_env(env)

    assert settings.database_url == "postgresql+psycopg://app@db/orders"
    assert settings.broker_url == "amqp://mq/"  # read here; refused when wired
    assert settings.market_data_url == "grpc://market:50051"
    assert settings.redis_url == "redis://cache:6379/2"
    assert settings.data_dir == tmp_path
    assert settings.prices_file == tmp_path / "prices.json"
    assert settings.auto_migrate is True
    assert (settings.db_pool_size, settings.db_max_overflow) == (4, 0)
    assert (settings.db_pool_timeout, settings.db_connect_timeout) == (1.5, 2.0)
    assert settings.db_statement_timeout == 3.0
    assert (settings.redis_prefix, settings.redis_timeout) == ("app:keys:", 0.25)
    assert settings.redis_pool_size == 8
    assert settings.redis_fallback is True
    assert settings.idempotency_ttl == timedelta(hours=1)
    assert settings.derived_key_window == timedelta(0)


@pytest.mark.parametrize("raw", ["", "   "])
def test_a_blank_variable_keeps_the_default(raw: str) -> None:
    assert Settings.from_env({"ORDERS_DB_POOL_SIZE": raw}).db_pool_size == 10


def test_the_home_directory_is_expanded_in_paths() -> None:
    settings = Settings.from_env({"ORDERS_DATA_DIR": "~/orders-data"})

    assert settings.data_dir == Path.home() / "orders-data"


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("ORDERS_DB_POOL_SIZE", "ten", "must be a whole number, got 'ten'"),
        ("ORDERS_REDIS_FALLBACK", "maybe", "must be true or false, got 'maybe'"),
        ("ORDERS_AUTO_MIGRATE", "2", "must be true or false, got '2'"),
        ("ORDERS_REDIS_TIMEOUT", "fast", "must be a number of seconds, got 'fast'"),
        ("ORDERS_IDEMPOTENCY_TTL", "1d", "must be a number of seconds, got '1d'"),
        ("ORDERS_DB_POOL_SIZE", "0", "must be at least 1"),
        ("ORDERS_REDIS_POOL_SIZE", "-2", "must be at least 1"),
        ("ORDERS_DB_MAX_OVERFLOW", "-1", "must be 0 or more"),
        ("ORDERS_DB_CONNECT_TIMEOUT", "0", "must be a positive number of seconds"),
        ("ORDERS_REDIS_TIMEOUT", "-0.5", "must be a positive number of seconds"),
        ("ORDERS_IDEMPOTENCY_TTL", "0", "must be a positive number of seconds"),
        ("ORDERS_IDEMPOTENCY_TTL", "inf", "must be a finite number of seconds, got 'inf'"),
        ("ORDERS_IDEMPOTENCY_TTL", "1e30", "is too long a number of seconds, got '1e30'"),
        ("ORDERS_DB_STATEMENT_TIMEOUT", "nan", "must be a finite number of seconds, got 'nan'"),
        ("ORDERS_DERIVED_KEY_WINDOW", "-1", "must be 0 or more seconds"),
        ("ORDERS_DERIVED_KEY_WINDOW", "1e12", "must be at most 315360000 seconds (3650 days)"),
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

    assert settings.database_url == "memory://"
    assert settings.redis_url == "redis://env"
    assert settings.data_dir == tmp_path


def test_overrides_are_validated_too() -> None:
    with pytest.raises(SettingsError, match="ORDERS_DB_POOL_SIZE: must be at least 1"):
        Settings().with_overrides(db_pool_size=0)


def test_the_default_database_is_a_sqlite_file_in_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)

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
    settings = Settings(database_url=url, auto_migrate=auto_migrate)

    assert settings.migrates_automatically is migrates
