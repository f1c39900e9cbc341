"""The limits the rules enforce, as data, with the seed's defaults where it gives one.

A deployment replaces any of them by building its own policy objects; nothing
reads them from globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

__all__ = [
    "LONGEST_WINDOW",
    "IdempotencyPolicy",
    "OrderPolicy",
    "RetryPolicy",
    "RiskPolicy",
    "ValidationPolicy",
]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True, slots=True)
class ValidationPolicy:
    """Order validation limits."""

    #: A LIMIT price (or a stop price) may be at most this fraction away from the market.
    price_tolerance: Decimal = Decimal("0.10")
    #: Prices must be multiples of this, unless the asset declares its own tick size.
    default_tick_size: Decimal = Decimal("0.01")
    #: Smallest and largest quantity of a single order.
    min_quantity: Decimal = Decimal("0.0001")
    max_quantity: Decimal = Decimal("1000000")
    #: Refuse orders while the symbol's market is closed.
    require_open_market: bool = True

    def __post_init__(self) -> None:
        _require(self.price_tolerance >= 0, "price_tolerance must be >= 0")
        _require(self.default_tick_size > 0, "default_tick_size must be > 0")
        _require(
            0 < self.min_quantity <= self.max_quantity, "need 0 < min_quantity <= max_quantity"
        )


@dataclass(frozen=True, slots=True)
class RiskPolicy:
    """Risk limits; the seed gives the 1,000,000 maximum order value."""

    max_order_value: Decimal = Decimal("1000000")
    max_order_quantity: Decimal = Decimal("100000")
    #: Orders a user may submit per UTC calendar day.
    max_daily_orders: int = 1000
    #: Largest holding of one symbol a BUY may lead to (held + open BUYs + this order).
    max_position_quantity: Decimal = Decimal("1000000")

    def __post_init__(self) -> None:
        _require(self.max_order_value > 0, "max_order_value must be > 0")
        _require(self.max_order_quantity > 0, "max_order_quantity must be > 0")
        _require(self.max_daily_orders > 0, "max_daily_orders must be > 0")
        _require(self.max_position_quantity > 0, "max_position_quantity must be > 0")


#: The longest idempotency TTL or derived-key window a policy accepts.
LONGEST_WINDOW = timedelta(days=3650)


@dataclass(frozen=True, slots=True)
class IdempotencyPolicy:
    """How submissions are de-duplicated (docs/library.md, "Idempotency")."""

    #: How long a client key's record is kept.
    key_ttl: timedelta = timedelta(hours=24)
    #: Window of the derived key SHA256(user:symbol:type:side:quantity:price) used
    #: when the client sends no key; zero turns derived keys off. Note: inside the
    #: window a genuine second identical order is answered with the first one.
    derived_key_window: timedelta = timedelta(hours=24)
    #: A PENDING entry older than this belongs to a crashed submitter and may be reclaimed.
    lock_timeout: timedelta = timedelta(seconds=30)

    def __post_init__(self) -> None:
        _require(self.key_ttl > timedelta(0), "key_ttl must be positive")
        _require(self.derived_key_window >= timedelta(0), "derived_key_window must be >= 0")
        # Beyond this, "now + window" overflows a datetime for no use to anyone.
        _require(self.key_ttl <= LONGEST_WINDOW, "key_ttl must be at most 3650 days")
        _require(
            self.derived_key_window <= LONGEST_WINDOW,
            "derived_key_window must be at most 3650 days",
        )
        _require(self.lock_timeout > timedelta(0), "lock_timeout must be positive")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delays between attempts to process an order after a transient failure
    (the seed's schedule: 5 min, 15 min, 1 h, 6 h; at most 4 retries, then dead-letter)."""

    delays: tuple[timedelta, ...] = (
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=6),
    )

    def __post_init__(self) -> None:
        _require(all(delay >= timedelta(0) for delay in self.delays), "delays must be >= 0")

    @property
    def max_retries(self) -> int:
        return len(self.delays)

    @property
    def inbox_retention(self) -> timedelta:
        """How long a handled message's id is kept: twice the whole retry path,
        and at least a week, so any redelivery still finds it."""
        return max(timedelta(days=7), 2 * sum(self.delays, timedelta(0)))

    def delay_before_retry(self, retries_done: int) -> timedelta | None:
        """The wait before retry number ``retries_done + 1``; None once they are used up."""
        if 0 <= retries_done < len(self.delays):
            return self.delays[retries_done]
        return None


@dataclass(frozen=True, slots=True)
class OrderPolicy:
    """Every limit the service applies, grouped."""

    validation: ValidationPolicy = field(default_factory=ValidationPolicy)
    risk: RiskPolicy = field(default_factory=RiskPolicy)
    idempotency: IdempotencyPolicy = field(default_factory=IdempotencyPolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
