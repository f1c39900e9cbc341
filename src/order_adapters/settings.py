"""Settings of a deployment, from ``ORDERS_*`` environment variables.

Every entry point (CLI, servers, a host application) reads them the same way
with :meth:`Settings.from_env` and may override any of them (the CLI's flags do:
flag > environment > default). A malformed value raises :class:`SettingsError`
naming the variable and what it should look like.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from order_core.policy import LONGEST_WINDOW

__all__ = ["DEMO_USER", "Settings", "SettingsError", "default_data_dir"]

#: The simulated account a first ``orders submit`` trades on.
DEMO_USER = UUID("11111111-1111-4111-8111-111111111111")


class SettingsError(ValueError):
    """A setting is malformed or names something unavailable.

    ``setting`` is the :class:`Settings` field at fault (None when several
    are), ``variable`` its ``ORDERS_*`` name, and ``message`` says what is
    wrong and how to fix it; ``str()`` joins the variable and the message.
    """

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        self.message = message
        self.setting = setting
        super().__init__(message)

    @property
    def variable(self) -> str | None:
        return None if self.setting is None else _VARIABLES[self.setting]

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


@dataclass(frozen=True, slots=True)
class Settings:
    """How the service is wired. ``None`` means "the default" where a field's
    doc says so; see docs/configuration.md for every variable."""

    #: ORDERS_DATABASE_URL: ``sqlite:///path``, ``postgresql+psycopg://...`` or
    #: ``memory://``; None is a SQLite file in ``data_dir``.
    database_url: str | None = None
    #: ORDERS_BROKER_URL: ``memory://`` processes orders in-process after each commit.
    broker_url: str = "memory://"
    #: ORDERS_REDIS_URL: ``redis://host:6379/0`` puts Redis in front of the
    #: database's idempotency records; None keeps them in the database only.
    redis_url: str | None = None
    #: ORDERS_MARKET_DATA_URL: ``simulated`` (prices, accounts, cash and
    #: positions simulated, kept in the database).
    market_data_url: str = "simulated"
    #: ORDERS_DATA_DIR: where the embedded default keeps its files.
    data_dir: Path | None = None
    #: ORDERS_PRICES_FILE: a JSON file of starting prices replacing the built-in ones.
    prices_file: Path | None = None
    #: ORDERS_AUTO_MIGRATE: bring the database to the newest schema at start;
    #: None means yes for SQLite and memory, no for PostgreSQL (migrate explicitly).
    auto_migrate: bool | None = None
    #: ORDERS_DB_POOL_SIZE, ORDERS_DB_MAX_OVERFLOW, ORDERS_DB_POOL_TIMEOUT,
    #: ORDERS_DB_CONNECT_TIMEOUT, ORDERS_DB_STATEMENT_TIMEOUT (seconds).
    db_pool_size: int = 10
    db_max_overflow: int = 15
    db_pool_timeout: float = 5.0
    db_connect_timeout: float = 5.0
    db_statement_timeout: float = 5.0
    #: ORDERS_REDIS_PREFIX, ORDERS_REDIS_TIMEOUT (seconds), ORDERS_REDIS_POOL_SIZE.
    redis_prefix: str = "orders:idem:"
    redis_timeout: float = 0.5
    redis_pool_size: int = 50
    #: ORDERS_REDIS_FALLBACK: when Redis is down, decide with the database
    #: alone instead of refusing submissions (true/false; default false).
    redis_fallback: bool = False
    #: ORDERS_IDEMPOTENCY_TTL: seconds a client key's record is kept (24 h).
    idempotency_ttl: timedelta = field(default=timedelta(hours=24))
    #: ORDERS_DERIVED_KEY_WINDOW: seconds within which an identical order sent
    #: without a key is answered with the first one, as the seed does (24 h);
    #: 0 turns derived keys off.
    derived_key_window: timedelta = field(default=timedelta(hours=24))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``ORDERS_*`` variables (``os.environ`` by default);
        unset or empty variables keep their defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, variable in _VARIABLES.items():
            raw = env.get(variable, "").strip()
            if raw:
                values[name] = _parse(name, raw)
        return cls(**values).validated()

    def with_overrides(self, **changes: Any) -> Settings:
        """These settings with every non-None change applied (flags over env)."""
        given = {name: value for name, value in changes.items() if value is not None}
        return replace(self, **given).validated() if given else self

    def validated(self) -> Settings:
        for name in ("db_pool_size", "redis_pool_size"):
            if getattr(self, name) < 1:
                raise SettingsError("must be at least 1", setting=name)
        for name in (
            "db_pool_timeout",
            "db_connect_timeout",
            "db_statement_timeout",
            "redis_timeout",
        ):
            if getattr(self, name) <= 0:
                raise SettingsError("must be a positive number of seconds", setting=name)
        if self.db_max_overflow < 0:
            raise SettingsError("must be 0 or more", setting="db_max_overflow")
        if self.idempotency_ttl <= timedelta(0):
            raise SettingsError("must be a positive number of seconds", setting="idempotency_ttl")
        if self.derived_key_window < timedelta(0):
            raise SettingsError("must be 0 or more seconds", setting="derived_key_window")
        for name in ("idempotency_ttl", "derived_key_window"):
            if getattr(self, name) > LONGEST_WINDOW:
                longest = int(LONGEST_WINDOW.total_seconds())
                raise SettingsError(f"must be at most {longest} seconds (3650 days)", setting=name)
        return self

    @property
    def data_path(self) -> Path:
        return self.data_dir if self.data_dir is not None else default_data_dir()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{self.data_path / 'orders.db'}"

    @property
    def migrates_automatically(self) -> bool:
        if self.auto_migrate is not None:
            return self.auto_migrate
        return not self.resolved_database_url.startswith("postgresql")


_VARIABLES = {
    "database_url": "ORDERS_DATABASE_URL",
    "broker_url": "ORDERS_BROKER_URL",
    "redis_url": "ORDERS_REDIS_URL",
    "market_data_url": "ORDERS_MARKET_DATA_URL",
    "data_dir": "ORDERS_DATA_DIR",
    "prices_file": "ORDERS_PRICES_FILE",
    "auto_migrate": "ORDERS_AUTO_MIGRATE",
    "db_pool_size": "ORDERS_DB_POOL_SIZE",
    "db_max_overflow": "ORDERS_DB_MAX_OVERFLOW",
    "db_pool_timeout": "ORDERS_DB_POOL_TIMEOUT",
    "db_connect_timeout": "ORDERS_DB_CONNECT_TIMEOUT",
    "db_statement_timeout": "ORDERS_DB_STATEMENT_TIMEOUT",
    "redis_prefix": "ORDERS_REDIS_PREFIX",
    "redis_timeout": "ORDERS_REDIS_TIMEOUT",
    "redis_pool_size": "ORDERS_REDIS_POOL_SIZE",
    "redis_fallback": "ORDERS_REDIS_FALLBACK",
    "idempotency_ttl": "ORDERS_IDEMPOTENCY_TTL",
    "derived_key_window": "ORDERS_DERIVED_KEY_WINDOW",
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


_PARSERS: dict[str, Callable[[str], object]] = {
    "data_dir": lambda raw: Path(raw).expanduser(),
    "prices_file": lambda raw: Path(raw).expanduser(),
    "auto_migrate": _flag,
    "redis_fallback": _flag,
    "db_pool_size": _whole,
    "db_max_overflow": _whole,
    "redis_pool_size": _whole,
    "db_pool_timeout": _seconds,
    "db_connect_timeout": _seconds,
    "db_statement_timeout": _seconds,
    "redis_timeout": _seconds,
    "idempotency_ttl": _duration,
    "derived_key_window": _duration,
}


def _parse(name: str, raw: str) -> object:
    parser = _PARSERS.get(name)
    if parser is None:  # text settings (URLs, the prefix) are taken as given
        return raw
    try:
        return parser(raw)
    except ValueError as error:
        raise SettingsError(f"{error}, got {raw!r}", setting=name) from None
