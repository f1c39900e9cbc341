"""What the order service derives from the platform's market data, as the
monolith derives it from ``category`` (docs/contracts.md, "Market data
service"): tradeable, the price step, the maximum order size and the trading
hours; and prices as exact decimals on the step (the deployed service sends
float32-rounded doubles: 123.45 arrives as 123.44999694824219)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from order_adapters.platform.resilience import BadAnswer
from order_core.decimals import round_amount
from order_core.exact import EXACT

__all__ = [
    "CATEGORIES",
    "Category",
    "TradingHoursTable",
    "category_of",
    "category_number",
    "price_on_step",
]


class Category(NamedTuple):
    name: str
    step: Decimal
    max_order_size: Decimal
    #: Whether it trades only within the trading hours (crypto: always open).
    has_hours: bool


#: The monolith's table, by the wire's number. Funds have no step there: 0.01.
CATEGORIES: dict[int, Category] = {
    0: Category("stock", Decimal("0.01"), Decimal(1_000_000), has_hours=True),
    1: Category("bond", Decimal("0.125"), Decimal(100_000_000), has_hours=False),
    2: Category("crypto", Decimal("0.00000001"), Decimal(1_000_000), has_hours=False),
    3: Category("fund", Decimal("0.01"), Decimal(1_000_000), has_hours=True),
    4: Category("etf", Decimal("0.01"), Decimal(1_000_000), has_hours=True),
}
#: The simulated market's category names, for the simulator's answers.
_NUMBERS = {"stock": 0, "equity": 0, "bond": 1, "crypto": 2, "fund": 3, "etf": 4}


def category_of(number: int) -> Category:
    """An unknown number is read as a stock (what 0, the default, means)."""
    return CATEGORIES.get(number, CATEGORIES[0])


def category_number(name: str) -> int:
    return _NUMBERS.get(name.strip().lower(), 0)


def price_on_step(value: float, step: Decimal, *, service: str, symbol: str) -> Decimal:
    """A price from the wire as an exact decimal on ``step``: the shortest
    text of the double, rounded to the nearest multiple of the step (half to
    even), then to the column's 8 places. A NaN, infinite, zero or negative
    price is a :class:`BadAnswer`, as is one that rounds to zero."""
    if not math.isfinite(value) or value <= 0:
        raise BadAnswer(service, f"price {value!r} for {symbol} is not a positive number")
    exact = Decimal(repr(value))
    steps = EXACT.divide(exact, step).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    price = round_amount(EXACT.multiply(steps, step))
    if price <= 0 or price >= Decimal(10) ** 10:
        raise BadAnswer(service, f"price {value!r} for {symbol} is out of range")
    return price


class TradingHoursTable:
    """When categories with hours trade: every day between ``opens`` and
    ``closes`` in ``zone`` (the monolith states hours, not days)."""

    def __init__(self, hours: str, zone: str) -> None:
        opens, _, closes = hours.partition("-")
        self.zone = ZoneInfo(zone)
        self.opens = _minutes(opens)
        self.closes = _minutes(closes)

    def session(self, now: datetime) -> tuple[bool, datetime, datetime]:
        """Whether it is open at ``now``, and today's opening and closing (UTC)."""
        local = now.astimezone(self.zone)
        midnight = datetime.combine(local.date(), time(0), tzinfo=self.zone)
        opens = (midnight + timedelta(minutes=self.opens)).astimezone(UTC)
        closes = (midnight + timedelta(minutes=self.closes)).astimezone(UTC)
        return opens <= now < closes, opens, closes


def _minutes(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    return int(hours) * 60 + int(minutes)
