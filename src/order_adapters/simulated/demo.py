"""The demo account every simulated deployment starts with: the CLI's default
user, with some cash and a few holdings."""

from __future__ import annotations

from uuid import UUID

__all__ = ["DEMO_CASH", "DEMO_POSITIONS", "DEMO_USER"]

#: The simulated account a first ``orders submit`` trades on.
DEMO_USER = UUID("11111111-1111-4111-8111-111111111111")
DEMO_CASH = "100000"
DEMO_POSITIONS = {"AAPL": "50", "MSFT": "20", "NVDA": "40", "TSLA": "10"}
