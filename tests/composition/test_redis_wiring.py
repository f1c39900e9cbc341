"""Redis wired by the composition root: a fast path in front of the database's
idempotency record, which stays the truth; fail closed when Redis is down
unless the settings allow deciding with the database alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from order_adapters.bootstrap import bootstrap
from order_adapters.runners import InProcessProcessing
from order_adapters.runtime import Runtime
from order_adapters.settings import Settings
from order_adapters.simulated.demo import DEMO_USER
from order_core import OrderStatus, SubmitOrder
from order_core.errors import DependencyUnavailable
from tests.services import REDIS_URL, closed_port, need, unique_name

redis = pytest.importorskip("redis", reason="the redis extra is not installed")

from order_adapters.gates import DatabaseFallbackGate  # noqa: E402
from order_adapters.redis import RedisIdempotencyStore  # noqa: E402
from tests.backends.redis import delete_keys, keys_under  # noqa: E402


def order(key: str = "client-key-1") -> SubmitOrder:
    return SubmitOrder(
        user_id=DEMO_USER,
        symbol="AAPL",
        order_type="MARKET",
        order_side="BUY",
        quantity="3",
        idempotency_key=key,
    )


def order_rows(runtime: Runtime) -> int:
    engine: sa.Engine = runtime.database.engine
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT count(*) FROM orders").scalar_one())


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; every key under it is deleted after."""
    need("Redis")
    chosen = unique_name("orders:test:wiring") + ":"
    yield chosen
    client = redis.Redis.from_url(REDIS_URL)
    try:
        delete_keys(client, chosen)
    finally:
        client.close()


@pytest.fixture
def cache() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'orders.db'}"
        return
    need("PostgreSQL")
    from tests.sql_databases import temporary_postgres_database  # noqa: PLC0415

    with temporary_postgres_database() as url:
        yield url


def test_the_database_record_still_answers_when_redis_lost_the_key(
    database_url: str, prefix: str, cache: redis.Redis
) -> None:
    settings = Settings.of(database_url=database_url, redis_url=REDIS_URL, redis_prefix=prefix)
    with bootstrap(settings) as runtime:
        first = runtime.service.submit(order())
        InProcessProcessing.of(runtime).pump()
        assert keys_under(cache, prefix), "the submission went through Redis"

        assert delete_keys(cache, prefix) == 1  # what a failover that lost writes does
        again = runtime.service.submit(order())

        assert again.order_id == first.order_id
        assert again.replayed
        assert order_rows(runtime) == 1
        status = runtime.service.get_status(first.order_id, DEMO_USER).status
        assert status is OrderStatus.EXECUTED


def test_the_settings_reach_the_redis_store(prefix: str, cache: redis.Redis) -> None:
    settings = Settings.of(
        database_url="memory://",
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        redis_timeout=0.75,
        redis_pool_size=7,
        idempotency_ttl=timedelta(minutes=2),
    )
    with bootstrap(settings) as runtime:
        store = runtime.service.dependencies.idempotency_gate
        assert isinstance(store, RedisIdempotencyStore)
        pool = store.client.connection_pool
        assert pool.max_connections == 7
        assert pool.connection_kwargs["socket_timeout"] == 0.75
        assert pool.connection_kwargs["socket_connect_timeout"] == 0.75

        runtime.service.submit(order())
        (key,) = keys_under(cache, prefix)
        assert key.decode().startswith(prefix)
        assert 110_000 < cache.pttl(key) <= 120_000


def test_redis_down_fails_the_submission_closed_and_creates_no_order(tmp_path: Path) -> None:
    settings = Settings.of(
        data_dir=tmp_path, redis_url=f"redis://127.0.0.1:{closed_port()}/0", redis_timeout=0.2
    )
    with bootstrap(settings) as runtime:
        balance_before = runtime.ledger.balances.get_balance(DEMO_USER)

        with pytest.raises(DependencyUnavailable) as refused:
            runtime.service.submit(order())

        assert refused.value.code == "DEPENDENCY_UNAVAILABLE"
        assert "redis" in refused.value.message
        assert order_rows(runtime) == 0
        assert runtime.ledger.balances.get_balance(DEMO_USER) == balance_before


def test_redis_down_with_fallback_lets_the_database_decide(tmp_path: Path) -> None:
    settings = Settings.of(
        data_dir=tmp_path,
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
        redis_timeout=0.2,
        redis_fallback=True,
    )
    with bootstrap(settings) as runtime:
        assert isinstance(runtime.service.dependencies.idempotency_gate, DatabaseFallbackGate)

        first = runtime.service.submit(order())
        InProcessProcessing.of(runtime).pump()
        again = runtime.service.submit(order())

        assert again.order_id == first.order_id
        assert order_rows(runtime) == 1
        status = runtime.service.get_status(first.order_id, DEMO_USER).status
        assert status is OrderStatus.EXECUTED
