"""Migrations reach the models' schema on a fresh database; a database that is
down gives the library's typed error, never a driver traceback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from order_adapters.memory import ManualClock, SequentialIds
from order_adapters.settings import DatabaseSettings
from order_adapters.simulated import InMemoryLedger, InMemoryMarketData
from order_adapters.sql import (
    HEAD_REVISION,
    SqlDatabase,
    current_revision,
    ensure_head,
    head_revision,
    upgrade,
)
from order_adapters.sql.dialects import Dialect, dialect_for
from order_adapters.sql.mapping import order_params
from order_adapters.sql.schema import metadata
from order_core import (
    Dependencies,
    DependencyUnavailable,
    Order,
    OrderService,
    OrderSide,
    OrderStatus,
    SubmitOrder,
    Symbol,
)
from order_core.records import AssetDetails
from tests.conftest import ALICE, build_world
from tests.contract.factories import T0, USER_A, make_order
from tests.services import closed_port
from tests.sql_databases import temporary_postgres_database

D = Decimal

# Alembic cannot compare SQLite's expression indexes (it warns of an
# "approximate signature"); that index is checked directly instead.
_EXPRESSION_INDEXES = {"idx_orders_created_at"}


def _differences(url: str) -> list[object]:
    engine = sa.create_engine(url)
    sqlite = engine.dialect.name == "sqlite"

    def compared(obj: object, name: str | None, kind: str, *_: object) -> bool:
        if kind == "table" and (name or "").startswith("sim_"):
            return False  # the simulator's, not the migrations' (decision 17)
        return not (sqlite and kind == "index" and name in _EXPRESSION_INDEXES)

    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": compared, "compare_type": True}
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_the_head_constant_names_the_newest_shipped_migration() -> None:
    assert head_revision() == HEAD_REVISION


def test_ensure_head_migrates_a_fresh_file_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'orders.db'}"

    ensure_head(url)
    ensure_head(url)

    assert current_revision(url) == HEAD_REVISION
    assert _differences(url) == []


def test_a_fresh_sqlite_file_migrates_to_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    assert current_revision(url) is None
    upgrade(url)
    upgrade(url)  # already at head: nothing to do, no error
    assert current_revision(url) == head_revision()
    assert _differences(url) == []
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        columns = connection.exec_driver_sql("PRAGMA index_xinfo('idx_orders_created_at')").all()
    engine.dispose()
    assert [(row[2], row[3]) for row in columns if row[5]] == [("created_at", 1)]  # key, DESC


def test_a_fresh_postgres_database_migrates_to_the_models(postgres_url: str) -> None:
    with temporary_postgres_database() as url:  # migrated on creation
        assert current_revision(url) == head_revision()
        upgrade(url)
        assert _differences(url) == []
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            column = connection.exec_driver_sql(
                "SELECT numeric_precision, numeric_scale FROM information_schema.columns "
                "WHERE table_name = 'orders' AND column_name = 'quantity'"
            ).one()
        engine.dispose()
        assert tuple(column) == (18, 8)


def _unreachable_service() -> tuple[OrderService, SqlDatabase]:
    """The service over a database nobody listens for, its simulated ledger
    kept there too (so nothing but the database can answer)."""
    from order_adapters.simulated.sql_ledger import SqlLedger  # noqa: PLC0415

    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test"
    database = SqlDatabase.from_url(url, DatabaseSettings(connect_timeout=1, pool_timeout=1))
    ledger = SqlLedger(database)  # connects on first use only
    database.attach_ledger(ledger.within)
    clock = ManualClock()
    market = InMemoryMarketData(clock)
    market.list_asset(AssetDetails(Symbol("AAPL"), "Apple", "equity"), Decimal(150))
    accounts = InMemoryLedger()
    accounts.open_account(ALICE, cash=1000)
    dependencies = Dependencies(
        unit_of_work=database,
        market_data=market,
        accounts=accounts.accounts,
        clock=clock,
        ids=SequentialIds(),
    )
    return OrderService(dependencies), database


def test_a_database_that_is_down_is_dependency_unavailable() -> None:
    service, database = _unreachable_service()
    try:
        with pytest.raises(DependencyUnavailable) as caught:
            service.get_history(ALICE)
        assert caught.value.code == "DEPENDENCY_UNAVAILABLE"
        assert caught.value.dependency == "database"
        with pytest.raises(DependencyUnavailable), database.outbox.claim(10):
            pass
        with pytest.raises(DependencyUnavailable):
            database.idempotency.get("key", datetime.now(UTC))
    finally:
        database.dispose()


def test_a_submission_while_the_database_is_down_is_dependency_unavailable() -> None:
    service, database = _unreachable_service()
    try:
        with pytest.raises(DependencyUnavailable) as caught:
            service.submit(SubmitOrder(ALICE, "AAPL", "MARKET", "BUY", "1"))
        assert caught.value.dependency == "database"
    finally:
        database.dispose()


def test_an_exhausted_pool_is_dependency_unavailable(sql_database: SqlDatabase) -> None:
    url = sql_database.engine.url.render_as_string(hide_password=False)
    tiny = SqlDatabase.from_url(
        url, DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout=0.2)
    )
    try:
        with tiny.unit_of_work() as holding:
            holding.orders.count_by_user(uuid4())  # takes the only connection
            with pytest.raises(DependencyUnavailable) as caught, tiny.unit_of_work() as waiting:
                waiting.orders.count_by_user(uuid4())
        assert "pool" in caught.value.message
    finally:
        tiny.dispose()


def test_duplicates_refused_by_the_database_leave_its_connection_usable(
    postgres_url: str,
) -> None:
    """A duplicate found by the unique index aborts the commit pipeline; the
    statements queued behind it were never parsed by the server, and a
    connection whose driver thinks otherwise must not serve the next order."""
    from tests.sql_databases import empty_postgres  # noqa: PLC0415

    empty_postgres(postgres_url).dispose()
    one_connection = DatabaseSettings(pool_size=1, max_overflow=0)
    database = SqlDatabase.from_url(postgres_url, one_connection)
    try:
        world = build_world(database=database)
        for round_ in range(3):
            first = world.submit(idempotency_key=f"dup-{round_}")
            for _ in range(7):  # each one's COMMIT is queued behind the refused INSERT
                assert world.submit(idempotency_key=f"dup-{round_}") == first
            world.runtime.pump()
        assert world.service.get_history(ALICE).total_count == 3
    finally:
        database.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def url_at_0001(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database migrated to revision 0001 only (what the previous release made)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'previous.db'}"
        upgrade(url, "0001")
        yield url
        return
    request.getfixturevalue("postgres_url")  # skips (or fails) when the server is down
    with temporary_postgres_database(migrate=False) as url:
        upgrade(url, "0001")
        yield url


def _insert_0001_row(connection: sa.Connection, order: Order, dialect: Dialect) -> None:
    """``order`` as the previous release wrote it (none of 0002's columns)."""
    values = order_params(order, dialect)
    for added in ("attempts", "next_attempt_at", "position_applied_at"):
        del values[added]
    columns = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    connection.execute(sa.text(f"INSERT INTO orders ({columns}) VALUES ({marks})"), values)


def test_a_database_of_the_previous_release_upgrades_with_its_orders(url_at_0001: str) -> None:
    open_buy = make_order(quantity="2")
    applied = make_order(side=OrderSide.SELL, status=OrderStatus.EXECUTED, quantity="3")
    applied.executed_at = T0 + timedelta(seconds=1)
    unapplied = make_order(side=OrderSide.SELL, status=OrderStatus.EXECUTED, quantity="4")
    unapplied.executed_at = T0 + timedelta(seconds=2)
    engine = sa.create_engine(url_at_0001)
    dialect = dialect_for(engine)
    try:
        with engine.begin() as connection:
            for order in (open_buy, applied, unapplied):
                _insert_0001_row(connection, order, dialect)
            # The previous release's simulator recorded which executions it applied.
            connection.execute(
                sa.text("CREATE TABLE sim_applied_executions (order_id CHAR(32) PRIMARY KEY)")
                if dialect.name == "sqlite"
                else sa.text("CREATE TABLE sim_applied_executions (order_id UUID PRIMARY KEY)")
            )
            connection.execute(
                sa.text("INSERT INTO sim_applied_executions (order_id) VALUES (:id)"),
                {"id": dialect.uuid(applied.id)},
            )
        upgrade(url_at_0001)
        assert current_revision(url_at_0001) == HEAD_REVISION
        assert _differences(url_at_0001) == []

        database = SqlDatabase.from_url(url_at_0001)
        try:
            with database.unit_of_work() as uow:
                kept = [uow.orders.get(order.id) for order in (open_buy, applied, unapplied)]
                activity = uow.orders.activity(USER_A, open_buy.symbol, since=T0)
        finally:
            database.dispose()
        applied.position_applied_at = applied.executed_at  # what 0002 records
        assert kept == [open_buy, applied, unapplied]
        assert [(o.attempts, o.next_attempt_at) for o in kept if o] == [(0, None)] * 3
        assert (activity.buying, activity.selling) == (D("2"), D("4"))

        refused = make_order()
        for column, value in (
            ("status", "LOST"),
            ("order_side", "HOLD"),
            ("order_type", "ICEBERG"),
            ("quantity", dialect.money(D(0))),
            ("price", dialect.money(D("-1"))),
        ):
            params = order_params(refused, dialect)
            params[column] = value
            marks = ", ".join(f":{name}" for name in params)
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
                connection.execute(
                    sa.text(f"INSERT INTO orders ({', '.join(params)}) VALUES ({marks})"), params
                )
    finally:
        engine.dispose()
