"""The composition root: settings in, a wired :class:`Runtime` out.

Every entry point (the ``orders`` CLI, servers, workers, a host application)
builds its service here. Each technology wires itself in its own module
(``sql/wiring.py``, ``redis/wiring.py``, ...), chosen by URL scheme from one
table; an unknown scheme, or a technology whose extra is not installed, is a
:class:`SettingsError` naming the fix, raised before anything is created.
"""

from __future__ import annotations

import importlib
from contextlib import ExitStack
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple, cast

from order_adapters.memory.clock import RandomIds, SystemClock
from order_adapters.runtime import Runtime
from order_adapters.settings import Settings, SettingsError
from order_adapters.urls import redacted, scheme_of
from order_adapters.wiring import (
    BrokerWiring,
    DatabaseWiring,
    GateWiring,
    Platform,
    PlatformWiring,
    SimulatorWiring,
)
from order_core import Dependencies, OrderPolicy, OrderService
from order_core.policy import IdempotencyPolicy, RetryPolicy
from order_core.ports import Clock, IdGenerator

__all__ = ["bootstrap", "check_settings", "migrate"]


class _Choice(NamedTuple):
    module: str
    extra: str  # what `pip install 'order-service[...]'` brings


#: (setting, URL scheme) -> the module that wires it.
_WIRING = {
    ("database_url", "memory"): _Choice("order_adapters.memory.wiring", ""),
    ("database_url", "sqlite"): _Choice("order_adapters.sql.wiring", "sql"),
    ("database_url", "postgresql"): _Choice("order_adapters.sql.wiring", "postgres"),
    ("redis_url", "redis"): _Choice("order_adapters.redis.wiring", "redis"),
    ("redis_url", "rediss"): _Choice("order_adapters.redis.wiring", "redis"),
    ("redis_url", "unix"): _Choice("order_adapters.redis.wiring", "redis"),
    ("broker_url", "memory"): _Choice("order_adapters.memory.wiring", ""),
    ("broker_url", "amqp"): _Choice("order_adapters.rabbitmq.wiring", "rabbitmq"),
    ("broker_url", "amqps"): _Choice("order_adapters.rabbitmq.wiring", "rabbitmq"),
    ("market_data_url", "simulated"): _Choice("order_adapters.simulated.wiring", ""),
    ("market_data_url", "grpc"): _Choice("order_adapters.platform.wiring", "grpc"),
    ("balance_url", "simulated"): _Choice("order_adapters.simulated.wiring", ""),
    ("balance_url", "grpc"): _Choice("order_adapters.platform.wiring", "grpc"),
    ("positions_url", "simulated"): _Choice("order_adapters.simulated.wiring", ""),
    ("positions_url", "grpc"): _Choice("order_adapters.platform.wiring", "grpc"),
}
_FIX = {
    "database_url": "is not supported: use sqlite:///path/to/orders.db, "
    "postgresql+psycopg://user@host/db or memory://",
    "redis_url": "is not a Redis URL: use redis://host:6379/0",
    "broker_url": "is not a broker URL: use memory:// (orders are processed in-process "
    "right after they are stored) or amqp://user:password@host:5672/vhost (RabbitMQ)",
    "market_data_url": "is not supported: use simulated (built in) or grpc://host:port "
    "(the platform's MarketDataService)",
    "balance_url": "is not supported: use simulated (built in) or grpc://host:port "
    "(the platform's BalanceService)",
    "positions_url": "is not supported: use simulated (built in) or grpc://host:port "
    "(the platform's PositionService)",
}


def _wiring(setting: str, url: str) -> ModuleType:
    choice = _WIRING.get((setting, scheme_of(url)))
    if choice is None:
        raise SettingsError(f"{redacted(url)!r} {_FIX[setting]}", setting=setting)
    try:
        # The technology's package first: it is what a missing extra takes away.
        importlib.import_module(choice.module.rpartition(".")[0])
        return importlib.import_module(choice.module)
    except ImportError as error:
        raise SettingsError(
            f"{scheme_of(url)} needs the {choice.extra!r} extra: "
            f"pip install 'order-service[{choice.extra}]' ({error})",
            setting=setting,
        ) from error


class _Plan(NamedTuple):
    database: DatabaseWiring
    url: str
    gate: GateWiring | None
    broker: BrokerWiring
    platform: PlatformWiring


def _platform(settings: Settings) -> PlatformWiring:
    """The platform's clients when any of its URLs is ``grpc://`` (they
    take what stays simulated from the simulator), else the simulator alone."""
    chosen = [
        _wiring(setting, url)
        for setting, url in (
            ("market_data_url", settings.market_data.url),
            ("balance_url", settings.balance.url),
            ("positions_url", settings.positions.url),
        )
    ]
    remote = [module for module in chosen if hasattr(module, "open_platform")]
    return (
        cast(PlatformWiring, remote[0]) if remote else _Simulated(cast(SimulatorWiring, chosen[0]))
    )


class _Simulated:
    """A :class:`SimulatorWiring` seen as a :class:`PlatformWiring`."""

    def __init__(self, wiring: SimulatorWiring) -> None:
        self._wiring = wiring

    def check(self, settings: Settings) -> object:
        return self._wiring.check(settings)

    def open_platform(
        self, settings: Settings, database: object, clock: Clock, resources: ExitStack
    ) -> Platform:
        market, ledger, described = self._wiring.open_simulator(
            settings, database, clock, resources
        )
        return Platform(market, ledger, None, described)


def check_settings(settings: Settings) -> _Plan:
    """Refuse what cannot be wired, naming the setting and the fix, before
    anything is created or connected; what each part is wired with."""
    platform = _platform(settings)
    broker = cast(BrokerWiring, _wiring("broker_url", settings.broker.url))
    gate = None
    if settings.redis.url is not None:
        gate = cast(GateWiring, _wiring("redis_url", settings.redis.url))
        gate.check(settings.redis)
    database = cast(DatabaseWiring, _wiring("database_url", settings.resolved_database_url))
    platform.check(settings)
    return _Plan(database, database.check(settings), gate, broker, platform)


def bootstrap(
    settings: Settings | None = None, *, clock: Clock | None = None, ids: IdGenerator | None = None
) -> Runtime:
    """Build the service ``settings`` describe (``Settings.from_env()`` if None).
    Whatever was opened is closed again if a later step fails."""
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    plan = check_settings(settings)
    idempotency = settings.idempotency
    policy = OrderPolicy(
        idempotency=IdempotencyPolicy(
            key_ttl=idempotency.ttl, derived_key_window=idempotency.derived_key_window
        ),
        retry=RetryPolicy(delays=settings.broker.retry_schedule),
    )
    resources = ExitStack()
    try:
        database, described = plan.database.open_database(settings, plan.url, resources)
        wiring = {"database": described, "idempotency": "database records"}
        platform = plan.platform.open_platform(settings, database, clock, resources)
        market, ledger, wiring["market"] = platform.market, platform.ledger, platform.described
        gate = None
        if plan.gate is not None:
            gate, wiring["idempotency"] = plan.gate.open_gate(settings.redis, resources)
        publisher, wiring["broker"] = plan.broker.open_broker(
            policy.retry, clock, resources, settings=settings.broker
        )
    except BaseException:
        resources.close()
        raise
    dependencies = Dependencies(
        unit_of_work=platform.unit_of_work or database.unit_of_work,
        market_data=market,
        accounts=ledger.accounts,
        clock=clock,
        ids=ids or RandomIds(),
        policy=policy,
        idempotency_gate=gate,
    )
    service = OrderService(dependencies)
    return Runtime(settings, service, database, market, ledger, publisher, wiring, resources)


def migrate(settings: Settings) -> tuple[str, str | None]:
    """Bring the database ``settings`` name to the newest schema (``orders db
    upgrade``); its URL without the password and the revision it is at
    (None for ``memory://``, which has no schema)."""
    plan = check_settings(settings)
    return redacted(plan.url), plan.database.migrate(settings, plan.url)


if TYPE_CHECKING:  # each module in the table offers what its role needs
    from order_adapters.memory import wiring as _memory
    from order_adapters.redis import wiring as _redis
    from order_adapters.simulated import wiring as _simulated
    from order_adapters.sql import wiring as _sql

    _MEMORY_DATABASE: DatabaseWiring = _memory
    _SQL_DATABASE: DatabaseWiring = _sql
    _REDIS_GATE: GateWiring = _redis
    _MEMORY_BROKER: BrokerWiring = _memory
    from order_adapters.platform import wiring as _platform_wiring

    _SIMULATED_PLATFORM: SimulatorWiring = _simulated
    _GRPC_PLATFORM: PlatformWiring = _platform_wiring
