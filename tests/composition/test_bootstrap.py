"""The composition root: settings in, a working service out, or a SettingsError
that names the setting and the fix."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from order_adapters.bootstrap import bootstrap
from order_adapters.runners import InProcessProcessing
from order_adapters.runtime import Runtime
from order_adapters.settings import Settings, SettingsError
from order_adapters.simulated.demo import DEMO_CASH, DEMO_USER
from order_core import OrderStatus, SubmitOrder, Symbol
from order_core.errors import DependencyUnavailable, OrderRejected
from tests.services import closed_port, need

AAPL = Symbol("AAPL")


def buy(quantity: str = "10", **fields: object) -> SubmitOrder:
    values: dict[str, object] = {
        "user_id": DEMO_USER,
        "symbol": "AAPL",
        "order_type": "MARKET",
        "order_side": "BUY",
        "quantity": quantity,
    }
    values.update(fields)
    return SubmitOrder(**values)  # type: ignore[arg-type]


def run_market_buy(runtime: Runtime) -> Decimal:
    """Buy 10 AAPL at market, process it, and return what it cost."""
    receipt = runtime.service.submit(buy())
    InProcessProcessing.of(runtime).pump()
    details = runtime.service.get_details(receipt.order_id, DEMO_USER)
    assert details.status is OrderStatus.EXECUTED
    assert details.execution_value is not None
    return details.execution_value


def test_the_embedded_default_keeps_everything_in_a_sqlite_file(tmp_path: Path) -> None:
    settings = Settings.of(data_dir=tmp_path / "data")

    with bootstrap(settings) as runtime:
        cost = run_market_buy(runtime)
        assert runtime.wiring["database"] == f"sqlite:///{tmp_path / 'data' / 'orders.db'}"

    assert (tmp_path / "data" / "orders.db").is_file()
    # A second process sees the order, the cash it cost and the shares it bought.
    with bootstrap(settings) as again:
        assert again.service.get_history(DEMO_USER).total_count == 1
        balance = again.ledger.balances.get_balance(DEMO_USER)
        assert balance.cash == Decimal(DEMO_CASH) - cost
        assert again.ledger.holdings(DEMO_USER)[AAPL] == Decimal("60")


def test_memory_database_keeps_nothing_between_runtimes() -> None:
    settings = Settings.of(database_url="memory://")

    with bootstrap(settings) as runtime:
        run_market_buy(runtime)
        assert runtime.service.get_history(DEMO_USER).total_count == 1

    with bootstrap(settings) as again:
        assert again.service.get_history(DEMO_USER).total_count == 0
        assert again.ledger.balances.get_balance(DEMO_USER).cash == Decimal(DEMO_CASH)


@pytest.mark.parametrize("database_url", ["memory://", None])
def test_a_resting_limit_executes_when_the_simulated_price_reaches_it(
    tmp_path: Path, database_url: str | None
) -> None:
    settings = Settings.of(database_url=database_url, data_dir=tmp_path)
    with bootstrap(settings) as runtime:
        processing = InProcessProcessing.of(runtime)
        receipt = runtime.service.submit(buy("5", order_type="LIMIT", price="180"))
        processing.pump()
        assert runtime.service.get_status(receipt.order_id, DEMO_USER).status is (
            OrderStatus.PENDING
        )

        runtime.market.set_price(AAPL, "179.50")
        report = runtime.service.sweep([AAPL])
        processing.pump()

        assert report.executed == (receipt.order_id,)
        details = runtime.service.get_details(receipt.order_id, DEMO_USER)
        assert (details.status, details.execution_price) == (
            OrderStatus.EXECUTED,
            Decimal("179.5"),
        )


def test_a_prices_file_replaces_the_built_in_listing(tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text('{"ACME": {"price": "12.34", "name": "Acme"}, "AAPL": 100.12345678}')

    with bootstrap(Settings.of(database_url="memory://", prices_file=prices)) as runtime:
        listed = {asset.symbol: quote.price for asset, quote, _ in runtime.market.assets()}
        assert listed == {
            Symbol("AAPL"): Decimal("100.12345678"),  # a JSON number is taken too
            Symbol("ACME"): Decimal("12.34"),
        }
        with pytest.raises(OrderRejected) as refused:
            runtime.service.submit(buy(symbol="MSFT"))
        assert refused.value.code == "SYMBOL_NOT_FOUND"


def test_a_prices_file_on_an_existing_market_lists_only_new_symbols(tmp_path: Path) -> None:
    with bootstrap(Settings.of(data_dir=tmp_path)) as runtime:
        runtime.market.set_price(AAPL, "190")
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"ACME": "12.34", "AAPL": "100"}))

    with bootstrap(Settings.of(data_dir=tmp_path, prices_file=prices)) as runtime:
        listed = {asset.symbol: quote.price for asset, quote, _ in runtime.market.assets()}

    assert listed[Symbol("ACME")] == Decimal("12.34")
    assert listed[AAPL] == Decimal("190")  # moved prices are not reset
    assert len(listed) == 11


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read prices file"),
        ("\udcff\udcfe{}", "cannot read prices file"),
        ('{"AAPL": "-1"}', "AAPL: must be positive"),
        ('{"AAPL": "cheap"}', "AAPL"),
        ("[]", "must be a JSON object of symbol: price"),
    ],
)
def test_a_bad_prices_file_is_a_settings_error(tmp_path: Path, content: str, message: str) -> None:
    prices = tmp_path / "prices.json"
    prices.write_bytes(content.encode("utf-8", "surrogateescape"))  # may be no UTF-8

    with pytest.raises(SettingsError, match=message) as refused:
        bootstrap(Settings.of(database_url="memory://", prices_file=prices))

    assert refused.value.variable == "ORDERS_PRICES_FILE"


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"broker_url": "kafka://guest:secret@broker/"}, "ORDERS_BROKER_URL"),
        ({"market_data_url": "grpc://guest:secret@market:50051"}, "ORDERS_MARKET_DATA_URL"),
        ({"redis_url": "redis://guest:secret@cache:notaport/0"}, "ORDERS_REDIS_URL"),
        ({"redis_url": "memcached://cache"}, "ORDERS_REDIS_URL"),
    ],
)
def test_a_refused_setting_creates_nothing_and_shows_no_password(
    tmp_path: Path, changes: dict[str, str], variable: str
) -> None:
    settings = Settings.of(data_dir=tmp_path / "data").with_overrides(**changes)

    with pytest.raises(SettingsError) as refused:
        bootstrap(settings)

    assert refused.value.variable == variable
    assert "secret" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_redis_extra_is_found_before_the_database_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "order_adapters.redis", None)
    settings = Settings.of(data_dir=tmp_path / "data", redis_url="redis://127.0.0.1:6379/0")

    with pytest.raises(SettingsError, match=r"pip install 'order-service\[redis\]'"):
        bootstrap(settings)

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg2://db/orders", "the 'psycopg2' driver is not supported"),
        ("postgresql+asyncpg://db/orders", "the 'asyncpg' driver is not supported"),
        ("sqlite://relative.db", "is not a SQLite file URL"),
        ("sqlite://", "is not a SQLite file URL"),
        ("sqlite:///:memory:", "is not a SQLite file URL"),
        ("sqlite+aiosqlite:///x.db", "is not supported: use sqlite:///path/to/orders.db"),
        ("sqlite:///{tmp}/missing/orders.db", "the folder {tmp}/missing does not exist"),
    ],
)
def test_a_database_url_this_package_cannot_open_is_a_settings_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)  # where a relative SQLite file would land

    with pytest.raises(SettingsError) as refused:
        bootstrap(Settings.of(database_url=url.format(tmp=tmp_path)))

    assert refused.value.variable == "ORDERS_DATABASE_URL"
    assert message.format(tmp=tmp_path) in refused.value.message
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_path_may_start_with_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    with bootstrap(Settings.of(database_url="sqlite:///~/orders.db")) as runtime:
        run_market_buy(runtime)

    assert (tmp_path / "orders.db").is_file()


@pytest.fixture(params=["sqlite", "postgres"])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a database nothing has touched yet, migrated at start."""
    if request.param == "sqlite":
        yield Settings.of(data_dir=tmp_path)
        return
    need("PostgreSQL")
    from tests.sql_databases import temporary_postgres_database  # noqa: PLC0415

    with temporary_postgres_database(migrate=False) as url:
        yield Settings.of(database_url=url, database_auto_migrate=True)


def test_processes_starting_together_on_a_new_database_all_start(new_database: Settings) -> None:
    settings = new_database
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def start_one() -> None:
        start.wait()
        try:
            bootstrap(settings).close()
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=start_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    with bootstrap(settings) as runtime:
        assert runtime.ledger.balances.get_balance(DEMO_USER).cash == Decimal(DEMO_CASH)


def test_closing_a_runtime_closes_everything_even_when_one_close_fails(tmp_path: Path) -> None:
    runtime = bootstrap(Settings.of(data_dir=tmp_path))
    closed: list[str] = []

    def broken() -> None:
        raise OSError("socket already gone")

    runtime.resources.callback(lambda: closed.append("first"))
    runtime.resources.callback(broken)  # closed first: the newest goes first

    with pytest.raises(OSError, match="socket already gone"):
        runtime.close()

    assert closed == ["first"]
    assert runtime.database.engine.pool.checkedout() == 0


@pytest.mark.parametrize(
    ("settings", "variable", "fix"),
    [
        (Settings.of(database_url="mysql://db/orders"), "ORDERS_DATABASE_URL", "sqlite:///"),
        (
            Settings.of(database_url="memory://", broker_url="kafka://guest@mq/"),
            "ORDERS_BROKER_URL",
            "or amqp://user:password@host:5672/vhost",
        ),
        (
            Settings.of(database_url="memory://", market_data_url="http://market:50051"),
            "ORDERS_MARKET_DATA_URL",
            "grpc://host:port",
        ),
        (
            Settings.of(database_url="memory://", redis_url="http://cache"),
            "ORDERS_REDIS_URL",
            "redis://host:6379/0",
        ),
    ],
)
def test_an_unknown_scheme_names_the_setting_and_the_fix(
    settings: Settings, variable: str, fix: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        bootstrap(settings)

    assert refused.value.variable == variable
    assert fix in refused.value.message


@pytest.mark.parametrize(
    ("module", "settings", "extra"),
    [
        ("order_adapters.sql", Settings.of(database_url="sqlite:///x.db"), "sql"),
        ("psycopg", Settings.of(database_url="postgresql+psycopg://db/orders"), "postgres"),
        (
            "order_adapters.redis",
            Settings.of(database_url="memory://", redis_url="redis://127.0.0.1:6379/0"),
            "redis",
        ),
    ],
)
def test_a_missing_extra_names_the_pip_command(
    monkeypatch: pytest.MonkeyPatch, module: str, settings: Settings, extra: str
) -> None:
    # Importing it now fails, as it does where the extra is not installed.
    monkeypatch.setitem(sys.modules, module, None)
    package, _, name = module.rpartition(".")
    if package:
        monkeypatch.delattr(sys.modules[package], name, raising=False)

    with pytest.raises(SettingsError) as refused:
        bootstrap(settings)

    assert f"pip install 'order-service[{extra}]'" in refused.value.message


def test_postgresql_is_not_migrated_behind_the_operators_back(blank_postgres_url: str) -> None:
    with pytest.raises(SettingsError, match="run `orders db upgrade`"):
        bootstrap(Settings.of(database_url=blank_postgres_url))

    engine = sa.create_engine(blank_postgres_url)
    try:
        assert sa.inspect(engine).get_table_names() == []  # nothing was half-written
    finally:
        engine.dispose()


def test_postgresql_runs_with_auto_migrate_and_keeps_the_demo_account(
    blank_postgres_url: str,
) -> None:
    plain_scheme = blank_postgres_url.replace("postgresql+psycopg://", "postgresql://")
    settings = Settings.of(
        database_url=plain_scheme, database_auto_migrate=True
    )  # psycopg 3 implied

    with bootstrap(settings) as runtime:
        cost = run_market_buy(runtime)
    with bootstrap(Settings.of(database_url=blank_postgres_url)) as again:  # now at head
        assert again.ledger.balances.get_balance(DEMO_USER).cash == Decimal(DEMO_CASH) - cost


def test_a_postgresql_that_never_answers_gives_up_after_the_connect_timeout() -> None:
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/test"
        began = time.monotonic()

        with pytest.raises(DependencyUnavailable):
            bootstrap(Settings.of(database_url=url, database_connect_timeout=1))

        assert time.monotonic() - began < 10  # not the driver's own, unbounded wait


def test_an_unreachable_postgresql_is_a_dependency_error() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test"

    with pytest.raises(DependencyUnavailable):
        bootstrap(Settings.of(database_url=url, database_connect_timeout=1))
    with pytest.raises(DependencyUnavailable):
        bootstrap(
            Settings.of(database_url=url, database_connect_timeout=1, database_auto_migrate=True)
        )


@pytest.fixture
def blank_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, never migrated; dropped after."""
    need("PostgreSQL")
    from tests.sql_databases import temporary_postgres_database  # noqa: PLC0415

    with temporary_postgres_database(migrate=False) as url:
        yield url
