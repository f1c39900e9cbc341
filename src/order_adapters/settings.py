"""Settings of a deployment, from ``ORDERS_*`` environment variables.

Settings come in groups, one per technology (:class:`DatabaseSettings`,
:class:`BrokerSettings`, :class:`RedisSettings`, ...), each a frozen dataclass
the adapter of that technology takes as it is. Every setting has a flat name,
``<group>_<field>`` (``database_pool_size``), and its variable is that name in
capitals after ``ORDERS_`` (``ORDERS_DATABASE_POOL_SIZE``): one rule, no table.

Every entry point reads them with :meth:`Settings.from_env` and may override any
by its flat name with :meth:`Settings.with_overrides` (the CLI's flags do: flag >
environment > default). A malformed value, from the environment or from code,
raises :class:`SettingsError` naming the variable and what it should look like.
"""

from __future__ import annotations

import logging
import math
import os
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from order_core.policy import LONGEST_WINDOW

__all__ = [
    "BalanceSettings",
    "BrokerSettings",
    "DatabaseSettings",
    "GrpcSettings",
    "IdempotencySettings",
    "MarketDataSettings",
    "PositionsSettings",
    "RedisSettings",
    "Settings",
    "SettingsError",
    "default_data_dir",
    "variable_of",
]

_log = logging.getLogger(__name__)


def variable_of(setting: str) -> str:
    """The environment variable of a setting's flat name."""
    return f"ORDERS_{setting.upper()}"


class SettingsError(ValueError):
    """A setting is malformed or names something unavailable.

    ``setting`` is the flat name at fault (``database_url``; None when several
    are), ``variable`` its ``ORDERS_*`` name, and ``message`` says what is wrong
    and how to fix it; ``str()`` joins the variable and the message.
    """

    def __init__(
        self, message: str, *, setting: str | None = None, variable: str | None = None
    ) -> None:
        self.message = message
        self.setting = setting
        self._variable = variable  # when read under a former name
        super().__init__(message)

    @property
    def variable(self) -> str | None:
        if self._variable is not None:
            return self._variable
        return None if self.setting is None else variable_of(self.setting)

    def __str__(self) -> str:
        return self.message if self.variable is None else f"{self.variable}: {self.message}"


def default_data_dir() -> Path:
    """The platform's per-user data directory for ``orders``."""
    try:
        from platformdirs import user_data_path  # noqa: PLC0415  # an optional dependency
    except ImportError:  # without platformdirs: the XDG default
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "orders"
    return user_data_path("orders", appauthor=False)


# -- value checks shared by the groups ------------------------------------------------


def _at_least(minimum: int) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        assert isinstance(value, int)
        return (
            None
            if value >= minimum
            else ("must be 0 or more" if minimum == 0 else "must be at least 1")
        )

    return check


def _positive_seconds(value: object) -> str | None:
    assert isinstance(value, float | int)
    return None if value > 0 else "must be a positive number of seconds"


def _seconds_at_most(limit: float) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        assert isinstance(value, float | int)
        return None if 0 <= value <= limit else f"must be 0 to {limit:g} seconds"

    return check


def _window(*, zero_allowed: bool) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        assert isinstance(value, timedelta)
        if value < timedelta(0) or (value == timedelta(0) and not zero_allowed):
            return (
                "must be 0 or more seconds"
                if zero_allowed
                else "must be a positive number of seconds"
            )
        if value > LONGEST_WINDOW:
            return f"must be at most {int(LONGEST_WINDOW.total_seconds())} seconds (3650 days)"
        return None

    return check


def _one_of(*choices: str) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _parse_delays(raw: str) -> tuple[timedelta, ...]:
    """``"0.05,0.1"`` -> (50 ms, 100 ms); ValueError says what is wrong."""
    try:
        delays = tuple(timedelta(seconds=float(part)) for part in raw.split(","))
    except (ValueError, OverflowError):
        raise ValueError("must be seconds separated by commas, like 300,900,3600") from None
    if any(delay <= timedelta(0) for delay in delays):
        raise ValueError("must be positive numbers of seconds")
    return delays


def _delays(value: object) -> str | None:
    assert isinstance(value, str)
    try:
        _parse_delays(value)
    except ValueError as error:
        return str(error)
    return None


def _check(check: Callable[[object], str | None]) -> dict[str, object]:
    return {"check": check}


# -- the groups -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """The system of record (``ORDERS_DATABASE_*``)."""

    group: ClassVar[str] = "database"

    #: ``sqlite:///path``, ``postgresql+psycopg://...`` or ``memory://``; None is a
    #: SQLite file in the data directory.
    url: str | None = None
    #: Bring the schema to the newest revision at start; None means yes for SQLite
    #: and memory, no for PostgreSQL (migrate explicitly with ``orders db upgrade``).
    auto_migrate: bool | None = None
    pool_size: int = field(default=10, metadata=_check(_at_least(1)))
    max_overflow: int = field(default=15, metadata=_check(_at_least(0)))
    #: Seconds to wait for a free pooled connection.
    pool_timeout: float = field(default=5.0, metadata=_check(_positive_seconds))
    #: Seconds to establish a PostgreSQL connection.
    connect_timeout: float = field(default=5.0, metadata=_check(_positive_seconds))
    #: Seconds one statement may run (PostgreSQL) or wait for a lock (SQLite).
    statement_timeout: float = field(default=5.0, metadata=_check(_positive_seconds))


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """How stored orders reach processing (``ORDERS_BROKER_*``)."""

    group: ClassVar[str] = "broker"

    #: ``memory://``: processed in-process after each commit;
    #: ``amqp://user:pass@host:5672/vhost``: stored, then published by
    #: ``orders relay`` and processed by ``orders worker`` through RabbitMQ.
    url: str = "memory://"
    #: Seconds before each retry of a transiently failed order, comma-separated
    #: (one retry tier each; the seed's 5 min, 15 min, 1 h, 6 h by default).
    retry_delays: str = field(default="300,900,3600,21600", metadata=_check(_delays))
    #: Queues the service adds (retry tiers, ``orders.events``): ``classic`` or
    #: ``quorum`` (quorum queues get ``delivery_limit``). Shared queues keep the
    #: monolith's declaration whatever this says.
    queue_type: str = field(default="classic", metadata=_check(_one_of("classic", "quorum")))
    #: Deliveries of one message a quorum queue allows before dead-lettering it.
    delivery_limit: int = field(default=10, metadata=_check(_at_least(1)))
    #: Unacknowledged deliveries a worker's channel holds.
    prefetch: int = field(default=10, metadata=_check(_at_least(1)))
    #: Publishes the relay keeps in flight awaiting their confirms.
    confirm_window: int = field(default=256, metadata=_check(_at_least(1)))
    #: Outbox rows the relay claims at once.
    relay_batch: int = field(default=500, metadata=_check(_at_least(1)))
    #: Seconds between outbox polls when no notification arrives.
    poll_interval: float = field(default=1.0, metadata=_check(_positive_seconds))
    #: Seconds the relay waits after a notification before claiming, so that
    #: one pass takes the commits of that moment together (PostgreSQL).
    relay_linger: float = field(default=0.01, metadata=_check(_seconds_at_most(1.0)))
    #: Seconds to connect to the broker, and to wait for a confirm.
    timeout: float = field(default=10.0, metadata=_check(_positive_seconds))
    #: The worker also applies ``positions.updates`` (the position keeper's
    #: part); None means yes when the ledger is the simulated one.
    keep_positions: bool | None = None

    @property
    def retry_schedule(self) -> tuple[timedelta, ...]:
        """The retry delays as durations."""
        return _parse_delays(self.retry_delays)


@dataclass(frozen=True, slots=True)
class RedisSettings:
    """Redis in front of the database's idempotency records (``ORDERS_REDIS_*``)."""

    group: ClassVar[str] = "redis"

    #: ``redis://host:6379/0``; None keeps idempotency in the database only.
    url: str | None = None
    prefix: str = "orders:idem:"
    #: Seconds for a Redis connect or reply.
    timeout: float = field(default=0.5, metadata=_check(_positive_seconds))
    pool_size: int = field(default=50, metadata=_check(_at_least(1)))
    #: While Redis is down, decide with the database alone instead of refusing.
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class _PlatformService:
    """What every client of a platform service takes: where it is, and how each
    call is bounded, retried and broken off."""

    #: ``simulated`` (kept beside the orders, in the same database) or
    #: ``grpc://host:port`` (the platform's service).
    url: str = "simulated"
    #: Seconds one call may take (never more than the caller has left).
    deadline: float = field(default=5.0, metadata=_check(_positive_seconds))
    #: Attempts of a read that failed UNAVAILABLE or DEADLINE_EXCEEDED.
    retry_attempts: int = field(default=3, metadata=_check(_at_least(1)))
    #: Seconds before the first retry (doubling, jittered, at most 1 s).
    retry_backoff: float = field(default=0.1, metadata=_check(_positive_seconds))
    #: Failed calls in a row that open the breaker (then calls fail at once).
    breaker_failures: int = field(default=5, metadata=_check(_at_least(1)))
    #: Seconds the breaker stays open before one trial call (half-open).
    breaker_reset: float = field(default=30.0, metadata=_check(_positive_seconds))


@dataclass(frozen=True, slots=True)
class MarketDataSettings(_PlatformService):
    """Prices, asset properties and trading hours (``ORDERS_MARKET_DATA_*``).
    Beyond ``url``, they apply to ``grpc://`` (docs/platform.md)."""

    group: ClassVar[str] = "market_data"

    @staticmethod
    def _zone(value: object) -> str | None:
        from zoneinfo import ZoneInfo  # noqa: PLC0415  # read only when checked

        try:
            ZoneInfo(str(value))
        except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
            return "must be an IANA time zone, like UTC or America/Sao_Paulo"
        return None

    @staticmethod
    def _hours(value: object) -> str | None:
        opens, _, closes = str(value).partition("-")
        try:
            start, end = (
                int(h) * 60 + int(m)
                for h, m in (part.strip().split(":") for part in (opens, closes))
            )
        except ValueError:
            return "must be HH:MM-HH:MM, like 07:30-22:00"
        if not 0 <= start < end <= 24 * 60:
            return "must open before it closes, within 00:00-24:00"
        return None

    #: Seconds asset properties and market hours are cached (never prices).
    cache_ttl: float = field(default=300.0, metadata=_check(_positive_seconds))
    #: The time zone of the trading hours.
    timezone: str = field(default="UTC", metadata=_check(_zone))
    #: When stocks, ETFs and funds trade (crypto always; the monolith's table).
    trading_hours: str = field(default="07:30-22:00", metadata=_check(_hours))


@dataclass(frozen=True, slots=True)
class BalanceSettings(_PlatformService):
    """The platform's cash balances (``ORDERS_BALANCE_*``). Beyond ``url``,
    they apply to ``grpc://`` (docs/platform.md)."""

    group: ClassVar[str] = "balance"


@dataclass(frozen=True, slots=True)
class PositionsSettings(_PlatformService):
    """The platform's share positions (``ORDERS_POSITIONS_*``). Beyond ``url``,
    they apply to ``grpc://`` (docs/platform.md)."""

    group: ClassVar[str] = "positions"


@dataclass(frozen=True, slots=True)
class IdempotencySettings:
    """How submissions are de-duplicated (``ORDERS_IDEMPOTENCY_*``)."""

    group: ClassVar[str] = "idempotency"

    #: How long a client key's record is kept.
    ttl: timedelta = field(
        default=timedelta(hours=24), metadata=_check(_window(zero_allowed=False))
    )
    #: Within this window an identical order sent without a key is answered with
    #: the first one, as the seed does; zero turns derived keys off.
    derived_key_window: timedelta = field(
        default=timedelta(hours=24), metadata=_check(_window(zero_allowed=True))
    )


@dataclass(frozen=True, slots=True)
class GrpcSettings:
    """The gRPC server, ``orders serve`` (``ORDERS_GRPC_*``)."""

    group: ClassVar[str] = "grpc"

    #: ``HOST:PORT`` the server listens on.
    listen: str = "127.0.0.1:50051"
    #: The platform's HS256 token secret; also read from ``ORDERS_JWT_SECRET``
    #: (the platform's name for it; ``ORDERS_GRPC_JWT_SECRET`` wins when both are set).
    jwt_secret: str | None = None
    #: Serve without verifying tokens (development only; said loudly at start).
    allow_unauthenticated: bool = False


_GROUP_CLASSES: dict[str, type[Any]] = {
    group.group: group
    for group in (
        DatabaseSettings,
        BrokerSettings,
        RedisSettings,
        MarketDataSettings,
        BalanceSettings,
        PositionsSettings,
        IdempotencySettings,
        GrpcSettings,
    )
}
_GROUPS = tuple(_GROUP_CLASSES)
_TOP_LEVEL = ("data_dir", "prices_file", "stale_after")


@dataclass(frozen=True, slots=True)
class Settings:
    """How the service is wired; see docs/configuration.md for every variable."""

    #: ORDERS_DATA_DIR: where the embedded default keeps its files.
    data_dir: Path | None = None
    #: ORDERS_PRICES_FILE: a JSON file of starting prices for the simulated market.
    prices_file: Path | None = None
    #: ORDERS_STALE_AFTER: how long work may sit untouched (a PROCESSING order,
    #: a due retry, an unapplied position update) before recovery takes it over.
    stale_after: timedelta = timedelta(seconds=30)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    market_data: MarketDataSettings = field(default_factory=MarketDataSettings)
    balance: BalanceSettings = field(default_factory=BalanceSettings)
    positions: PositionsSettings = field(default_factory=PositionsSettings)
    idempotency: IdempotencySettings = field(default_factory=IdempotencySettings)
    grpc: GrpcSettings = field(default_factory=GrpcSettings)

    #: Variables of earlier versions, still read (with a warning naming the new one).
    FORMER_NAMES: ClassVar[Mapping[str, str]] = {
        "ORDERS_AUTO_MIGRATE": "database_auto_migrate",
        "ORDERS_DB_POOL_SIZE": "database_pool_size",
        "ORDERS_DB_MAX_OVERFLOW": "database_max_overflow",
        "ORDERS_DB_POOL_TIMEOUT": "database_pool_timeout",
        "ORDERS_DB_CONNECT_TIMEOUT": "database_connect_timeout",
        "ORDERS_DB_STATEMENT_TIMEOUT": "database_statement_timeout",
        "ORDERS_DERIVED_KEY_WINDOW": "idempotency_derived_key_window",
    }
    #: Other names a setting is documented under, read without a warning (the
    #: ``ORDERS_<GROUP>_<FIELD>`` variable wins when both are set).
    ALIASES: ClassVar[Mapping[str, str]] = {"ORDERS_JWT_SECRET": "grpc_jwt_secret"}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``ORDERS_*`` variables (``os.environ`` by default);
        unset or empty variables keep their defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for other, setting in (*cls.FORMER_NAMES.items(), *cls.ALIASES.items()):
            raw = env.get(other, "").strip()
            if not raw or env.get(variable_of(setting), "").strip():
                continue  # unset, or the setting's own variable wins
            if other in cls.FORMER_NAMES:
                _log.warning("%s is deprecated: set %s instead", other, variable_of(setting))
            try:
                values[setting] = _parse(setting, raw)
            except SettingsError as error:  # named as the user set it
                raise SettingsError(error.message, setting=setting, variable=other) from None
        for setting, kind in _KINDS.items():
            raw = env.get(variable_of(setting), "").strip()
            if raw:
                values[setting] = _parse(setting, raw, kind)
        return cls.of(**values)

    @classmethod
    def of(cls, **values: object) -> Settings:
        """Settings from flat names (``database_url="memory://"``), the rest default."""
        return cls().with_overrides(**values)

    def with_overrides(self, **changes: object) -> Settings:
        """These settings with every non-None change applied (flags over env).
        Changes are named by flat name; a wrong name or type is a SettingsError."""
        kinds = _KINDS
        grouped: dict[str, dict[str, object]] = {}
        top: dict[str, object] = {}
        for setting, value in changes.items():
            if value is None:
                continue
            kind = kinds.get(setting)
            if kind is None:
                raise SettingsError(f"there is no setting {setting!r}")
            checked = _typed(setting, value, kind)
            group, name = _split(setting)
            if group is None:
                top[name] = checked
            else:
                grouped.setdefault(group, {})[name] = checked
        if not (grouped or top):
            return self
        for group, values in grouped.items():
            top[group] = replace(getattr(self, group), **values)
        updated = replace(self, **top)  # type: ignore[arg-type]  # names checked above
        updated.validate()
        return updated

    def validate(self) -> None:
        """Raise :class:`SettingsError` for the first value out of its range."""
        if self.stale_after <= timedelta(0):
            raise SettingsError("must be a positive number of seconds", setting="stale_after")
        for group in _GROUPS:
            values = getattr(self, group)
            for item in fields(values):
                check = item.metadata.get("check")
                problem = check(getattr(values, item.name)) if check else None
                if problem:
                    raise SettingsError(problem, setting=f"{group}_{item.name}")

    def flat(self) -> Iterator[tuple[str, object]]:
        """Every setting by flat name with its value."""
        for name in _TOP_LEVEL:
            yield name, getattr(self, name)
        for group in _GROUPS:
            values = getattr(self, group)
            for item in fields(values):
                yield f"{group}_{item.name}", getattr(values, item.name)

    @property
    def data_path(self) -> Path:
        return self.data_dir if self.data_dir is not None else default_data_dir()

    @property
    def resolved_database_url(self) -> str:
        if self.database.url is not None:
            return self.database.url
        return f"sqlite:///{self.data_path / 'orders.db'}"

    @property
    def keeps_positions(self) -> bool:
        """Whether this service applies executions to the holdings (the
        position keeper's part): ``ORDERS_BROKER_KEEP_POSITIONS``, else yes
        exactly when the positions are the simulated ones; the platform's
        position service keeps its own."""
        if self.broker.keep_positions is not None:
            return self.broker.keep_positions
        return self.positions.url == "simulated"

    @property
    def migrates_automatically(self) -> bool:
        if self.database.auto_migrate is not None:
            return self.database.auto_migrate
        return not self.resolved_database_url.startswith("postgresql")


# -- names, types and parsing -----------------------------------------------------------


def _split(setting: str) -> tuple[str | None, str]:
    """(group, field) of a flat name; no group for the top-level settings."""
    for group in _GROUPS:
        if setting.startswith(f"{group}_"):
            return group, setting[len(group) + 1 :]
    return None, setting


def _declared_types() -> dict[str, object]:
    """Flat name -> the declared type of every setting, read off the dataclasses."""
    kinds: dict[str, object] = {"data_dir": Path, "prices_file": Path, "stale_after": timedelta}
    for group, group_class in _GROUP_CLASSES.items():
        hints = typing.get_type_hints(group_class)
        for item in fields(group_class):
            kinds[f"{group}_{item.name}"] = hints[item.name]
    return kinds


def _base(kind: object) -> type:
    """``int`` for ``int``, ``bool`` for ``bool | None``, ``str`` for ``str | None``..."""
    for candidate in (bool, int, float, timedelta, Path, str):
        if kind is candidate or candidate in getattr(kind, "__args__", ()):
            return candidate
    raise TypeError(f"no parser for {kind!r}")


def _typed(setting: str, value: object, kind: object) -> object:
    """``value`` given in code, checked to be of the setting's type."""
    base = _base(kind)
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if base is Path and isinstance(value, str):
        return Path(value).expanduser()
    if isinstance(value, base) and not (base is int and isinstance(value, bool)):
        return value
    raise SettingsError(
        f"must be {_NOUNS[base]}, got {type(value).__name__} {value!r}", setting=setting
    )


_NOUNS: dict[type, str] = {
    bool: "true or false",
    int: "a whole number",
    float: "a number of seconds",
    timedelta: "a duration (timedelta)",
    Path: "a path",
    str: "text",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ValueError("must be true or false")


def _whole(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("must be a whole number") from None


def _seconds(raw: str) -> float:
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError("must be a number of seconds") from None
    if not math.isfinite(seconds):
        raise ValueError("must be a finite number of seconds")
    return seconds


def _duration(raw: str) -> timedelta:
    try:
        return timedelta(seconds=_seconds(raw))
    except OverflowError:
        raise ValueError("is too long a number of seconds") from None


_PARSERS: dict[type, Callable[[str], Any]] = {
    bool: _flag,
    int: _whole,
    float: _seconds,
    timedelta: _duration,
    Path: lambda raw: Path(raw).expanduser(),
    str: lambda raw: raw,
}


def _parse(setting: str, raw: str, kind: object | None = None) -> object:
    parser = _PARSERS[_base(_KINDS[setting] if kind is None else kind)]
    try:
        return parser(raw)
    except ValueError as error:
        raise SettingsError(f"{error}, got {raw!r}", setting=setting) from None


_KINDS = _declared_types()
