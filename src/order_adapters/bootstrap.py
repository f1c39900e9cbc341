"""The composition root: settings in, a wired order service out.

Every entry point (the ``orders`` CLI, servers, workers, a host application)
builds its service here, so wiring happens in exactly one place. Adapters are
chosen by URL scheme (DESIGN §2); an unknown scheme, or an adapter whose extra
is not installed, raises :class:`~order_adapters.settings.SettingsError` naming
the fix. Nothing connects until :func:`bootstrap` is called.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from order_adapters.gates import DatabaseFallbackGate
from order_adapters.memory import (
    InMemoryDatabase,
    InMemoryLedger,
    InMemoryMarketData,
    InProcessBroker,
    InProcessRuntime,
    RandomIds,
    SystemClock,
)
from order_adapters.settings import DEMO_USER, Settings, SettingsError
from order_adapters.simulated.listing import (
    DEFAULT_LISTING,
    Listing,
    PricesFileError,
    read_prices_file,
)
from order_core import Dependencies, OrderPolicy, OrderService, __version__
from order_core.events import OrderExecuted
from order_core.policy import IdempotencyPolicy
from order_core.ports import (
    Accounts,
    AssetDetails,
    Balances,
    Clock,
    IdempotencyStore,
    IdGenerator,
    MarketData,
    Outbox,
    Positions,
    Quote,
    UnitOfWorkFactory,
)
from order_core.values import Symbol

__all__ = [
    "DEMO_CASH",
    "DEMO_POSITIONS",
    "LedgerControls",
    "MarketControls",
    "OrderRuntime",
    "bootstrap",
    "check_settings",
    "migrate",
    "redacted",
    "versions",
]

DEMO_CASH = "100000"
DEMO_POSITIONS = {"AAPL": "50", "MSFT": "20", "NVDA": "40", "TSLA": "10"}


class LedgerControls(Protocol):
    """The simulated accounts, cash and positions: the ports the service uses,
    and what a CLI or a test needs to open and inspect accounts."""

    @property
    def accounts(self) -> Accounts: ...

    @property
    def balances(self) -> Balances: ...

    @property
    def positions(self) -> Positions: ...

    def open_account(
        self,
        user_id: UUID,
        *,
        cash: Decimal | str | int = 0,
        positions: Mapping[Symbol | str, Decimal | str | int] | None = None,
        active: bool = True,
        if_missing: bool = False,
    ) -> bool: ...

    def has_account(self, user_id: UUID) -> bool: ...

    def holdings(self, user_id: UUID) -> dict[Symbol, Decimal]: ...

    def apply_execution(self, event: OrderExecuted) -> None: ...


class MarketControls(MarketData, Protocol):
    """The simulated market: the port the service reads, and the knobs."""

    def set_price(self, symbol: Symbol | str, price: Decimal | str) -> Quote: ...

    def set_market_open(self, is_open: bool, symbol: Symbol | str | None = None) -> None: ...

    def assets(self) -> list[tuple[AssetDetails, Quote, bool]]: ...


class _Database(Protocol):
    def unit_of_work(self) -> Any: ...

    @property
    def outbox(self) -> Outbox: ...


@dataclass
class OrderRuntime:
    """A wired service and what came with it. Call :meth:`pump` after an
    operation to process what it put in the outbox (``memory://`` broker), and
    :meth:`close` at the end."""

    settings: Settings
    service: OrderService
    database: Any
    market: MarketControls
    ledger: LedgerControls
    broker: InProcessBroker
    processor: InProcessRuntime
    wiring: dict[str, str]
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def pump(self) -> int:
        """Relay and process everything ready; how many deliveries were made."""
        return self.processor.pump()

    def close(self) -> None:
        """Close everything opened for this runtime, even if one close fails."""
        closers, self._closers = self._closers, []
        _close_all(closers)

    def __enter__(self) -> OrderRuntime:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
) -> OrderRuntime:
    """Build the service ``settings`` describe (``Settings.from_env()`` if None)."""
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    ids = ids or RandomIds()
    closers: list[Callable[[], None]] = []
    wiring: dict[str, str] = {}
    url = check_settings(settings)  # before anything is created or connected
    try:
        database, market, ledger = _system_of_record(settings, url, clock, wiring, closers)
        gate = _idempotency_gate(settings, wiring, closers)
        policy = OrderPolicy(
            idempotency=IdempotencyPolicy(
                key_ttl=settings.idempotency_ttl,
                derived_key_window=settings.derived_key_window,
            )
        )
        service = OrderService(
            Dependencies(
                unit_of_work=_uow_factory(database),
                market_data=market,
                accounts=ledger.accounts,
                balances=ledger.balances,
                positions=ledger.positions,
                clock=clock,
                ids=ids,
                policy=policy,
                idempotency_gate=gate,
            )
        )
        broker, processor = _broker(
            service, database=database, ledger=ledger, clock=clock, wiring=wiring
        )
    except BaseException:
        _close_all(closers)
        raise
    return OrderRuntime(
        settings, service, database, market, ledger, broker, processor, wiring, closers
    )


def _uow_factory(database: _Database) -> UnitOfWorkFactory:
    factory: UnitOfWorkFactory = database.unit_of_work
    return factory


def check_settings(settings: Settings) -> str:
    """Refuse what this version cannot wire, naming the setting and the fix,
    before anything is created or connected; the database URL to open.

    Raises :class:`SettingsError`, also when an adapter's extra is missing.
    """
    if settings.market_data_url != "simulated":
        raise SettingsError(
            f"{redacted(settings.market_data_url)!r} is not available in this version: only "
            "'simulated' market data, accounts and balances are built in",
            setting="market_data_url",
        )
    if not settings.broker_url.startswith("memory://"):
        raise SettingsError(
            f"{redacted(settings.broker_url)!r} is not available in this version: use memory:// "
            "(orders are processed in-process right after they are stored)",
            setting="broker_url",
        )
    if settings.redis_url is not None:
        _check_redis_url(settings.redis_url)
    url = settings.resolved_database_url
    if url.startswith("memory://"):
        return url
    if not url.startswith(("sqlite:", "postgresql")):
        raise SettingsError(
            f"{redacted(url)!r} is not supported: use sqlite:///path/to/orders.db, "
            "postgresql+psycopg://user@host/db or memory://",
            setting="database_url",
        )
    _import_sql(url)
    return _sql_url(url, create_folder=settings.database_url is None)


def migrate(settings: Settings) -> tuple[str, str | None]:
    """Bring the database ``settings`` name to the newest schema (``orders db
    upgrade``); the URL (without its password) and the revision it is at.
    ``memory://`` has no schema: its revision is None."""
    url = check_settings(settings)
    if url.startswith("memory://"):
        return url, None
    sql = _import_sql(url)
    _create_default_folder(settings)
    timeout = settings.db_connect_timeout
    sql.ensure_head(url, connect_timeout=timeout)
    return redacted(url), sql.current_revision(url, connect_timeout=timeout)


def _check_redis_url(url: str) -> None:
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(
            f"{redacted(url)!r} is not a Redis URL: use redis://host:6379/0", setting="redis_url"
        )
    try:
        from redis import ConnectionPool  # noqa: PLC0415

        import order_adapters.redis  # noqa: F401, PLC0415
    except ImportError as error:
        raise SettingsError(
            f"needs the 'redis' extra: pip install 'order-service[redis]' ({error})",
            setting="redis_url",
        ) from error
    try:
        ConnectionPool.from_url(url)  # parses; connects to nothing
    except ValueError as error:
        raise SettingsError(
            f"{redacted(url)!r} is not a Redis URL ({error}): use redis://host:6379/0",
            setting="redis_url",
        ) from None


def _system_of_record(
    settings: Settings,
    url: str,
    clock: Clock,
    wiring: dict[str, str],
    closers: list[Callable[[], None]],
) -> tuple[_Database, MarketControls, LedgerControls]:
    listing = _listing(settings)
    if url.startswith("memory://"):
        database = InMemoryDatabase()
        memory_market = InMemoryMarketData(clock)
        for symbol, (name, category, price) in listing.items():
            memory_market.list_asset(AssetDetails(Symbol(symbol), name, category), price)
        memory_ledger = InMemoryLedger()
        memory_ledger.open_account(DEMO_USER, cash=DEMO_CASH, positions=DEMO_POSITIONS)
        wiring.update(
            database="in memory (nothing is kept after exit)", market="simulated, in memory"
        )
        return database, memory_market, memory_ledger
    sql = _import_sql(url)
    _create_default_folder(settings)
    if settings.migrates_automatically:
        sql.ensure_head(url, connect_timeout=settings.db_connect_timeout)
    else:
        _require_migrated(sql, url, settings.db_connect_timeout)
    pool = _pool(sql, settings)
    database = sql.SqlDatabase.from_url(url, pool)
    closers.append(database.dispose)
    # The simulated market and ledger stand in for other services: a pool of
    # their own, so a submission holding a connection never waits on its own pool.
    simulator = sql.SqlDatabase.from_url(url, pool)
    closers.append(simulator.dispose)
    from order_adapters.simulated.ledger import SqlLedger  # noqa: PLC0415
    from order_adapters.simulated.market import SimulatedMarket  # noqa: PLC0415

    market = SimulatedMarket(simulator, clock)
    listed = {asset.symbol for asset, _, _ in market.assets()}
    if not listed:
        market.list_assets(listing)
    elif settings.prices_file is not None:  # listed prices move only with set_price
        market.list_assets({s: v for s, v in listing.items() if Symbol(s) not in listed})
    ledger = SqlLedger(simulator)
    ledger.open_account(DEMO_USER, cash=DEMO_CASH, positions=DEMO_POSITIONS, if_missing=True)
    wiring.update(database=redacted(url), market="simulated, kept in the database")
    return database, market, ledger


def _pool(sql: Any, settings: Settings) -> Any:
    return sql.PoolSettings(
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        connect_timeout=settings.db_connect_timeout,
        statement_timeout=settings.db_statement_timeout,
    )


def _create_default_folder(settings: Settings) -> None:
    if settings.database_url is None:
        settings.data_path.mkdir(parents=True, exist_ok=True)


def _sql_url(url: str, *, create_folder: bool) -> str:
    """``url`` checked as one this package can open; ``postgresql://`` means
    psycopg 3, the one PostgreSQL driver supported; ``~`` in a SQLite path is
    the home folder."""
    import sqlalchemy as sa  # noqa: PLC0415  # the sql extra, present by now

    fix = "use sqlite:///path/to/orders.db or postgresql+psycopg://user@host/db"
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise SettingsError(
            f"{redacted(url)!r} is not a database URL: {fix}", setting="database_url"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")  # driver "" when not named
    if backend == "postgresql":
        if driver not in ("", "psycopg"):
            raise SettingsError(
                f"the {driver!r} driver is not supported: use postgresql+psycopg://...",
                setting="database_url",
            )
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    path = parsed.database
    if backend != "sqlite" or driver not in ("", "pysqlite") or parsed.host:
        path = None
    if not path or path == ":memory:":
        raise SettingsError(
            f"{redacted(url)!r} is not a SQLite file URL: use sqlite:///relative/path.db, "
            "sqlite:////absolute/path.db, or memory:// for a run that keeps nothing",
            setting="database_url",
        )
    file = Path(path).expanduser()
    if not create_folder and not file.resolve().parent.is_dir():
        raise SettingsError(
            f"the folder {file.resolve().parent} does not exist", setting="database_url"
        )
    return parsed.set(database=str(file)).render_as_string(hide_password=False)


def _import_sql(url: str) -> Any:
    extra = "postgres" if url.startswith("postgresql") else "sql"
    try:
        from order_adapters import sql  # noqa: PLC0415

        if extra == "postgres":
            import psycopg  # noqa: F401, PLC0415
    except ImportError as error:
        raise SettingsError(
            f"{url.split(':', 1)[0]} needs the {extra!r} extra: "
            f"pip install 'order-service[{extra}]' ({error})",
            setting="database_url",
        ) from error
    return sql


def _require_migrated(sql: Any, url: str, connect_timeout: float) -> None:
    current = sql.current_revision(url, connect_timeout=connect_timeout)
    if current != sql.HEAD_REVISION:
        raise SettingsError(
            f"the database at {redacted(url)} is at schema revision {current or 'none'}, "
            f"not {sql.HEAD_REVISION}: run `orders db upgrade` (or set ORDERS_AUTO_MIGRATE=true)"
        )


def _close_all(closers: list[Callable[[], None]]) -> None:
    """Run every closer, newest first; the first failure is raised at the end."""
    failure: BaseException | None = None
    for close in reversed(closers):
        try:
            close()
        except Exception as error:
            failure = failure or error
    closers.clear()
    if failure is not None:
        raise failure


def _listing(settings: Settings) -> Listing:
    if settings.prices_file is None:
        return DEFAULT_LISTING
    try:
        return read_prices_file(settings.prices_file)
    except PricesFileError as error:
        raise SettingsError(str(error), setting="prices_file") from error


def _idempotency_gate(
    settings: Settings, wiring: dict[str, str], closers: list[Callable[[], None]]
) -> IdempotencyStore | None:
    if settings.redis_url is None:
        wiring["idempotency"] = "database records"
        return None
    from order_adapters.redis import RedisIdempotencyStore  # noqa: PLC0415  # checked

    store = RedisIdempotencyStore.from_url(
        settings.redis_url,
        prefix=settings.redis_prefix,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
        max_connections=settings.redis_pool_size,
    )
    closers.append(store.close)
    fallback = (
        " (falls back on the database while Redis is down)" if settings.redis_fallback else ""
    )
    wiring["idempotency"] = (
        f"Redis at {redacted(settings.redis_url)} in front of the database{fallback}"
    )
    return DatabaseFallbackGate(store) if settings.redis_fallback else store


def _broker(
    service: OrderService,
    *,
    database: _Database,
    ledger: LedgerControls,
    clock: Clock,
    wiring: dict[str, str],
) -> tuple[InProcessBroker, InProcessRuntime]:
    broker = InProcessBroker(clock)
    processor = InProcessRuntime(service, database.outbox, broker, position_keeper=ledger)
    wiring["broker"] = "memory:// (processed in-process after each commit)"
    return broker, processor


def redacted(url: str) -> str:
    """The URL without its password."""
    try:
        import sqlalchemy as sa  # noqa: PLC0415

        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a SQLAlchemy URL (redis://): strip by hand
        head, _, tail = url.partition("@")
        if tail and ":" in head.split("//", 1)[-1]:
            scheme, _, credentials = head.partition("//")
            return f"{scheme}//{credentials.split(':', 1)[0]}:***@{tail}"
        return url


def versions() -> dict[str, str]:
    """Versions worth reporting (``orders info``)."""
    found = {"order-service": __version__, "python": platform.python_version()}
    for distribution in ("sqlalchemy", "alembic", "psycopg", "redis", "click"):
        try:
            found[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return found
