"""The simulated market's symbols and starting prices: a handful of well-known
symbols with deterministic prices, or a prices file (JSON) instead::

    {"AAPL": "189.50", "ACME": {"price": "12.34", "name": "Acme Corp."}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from order_core.decimals import parse_decimal
from order_core.values import Symbol

__all__ = ["DEFAULT_LISTING", "Listing", "PricesFileError", "read_prices_file"]

#: Symbol -> (name, category, price).
Listing = Mapping[str, tuple[str, str, Decimal]]

DEFAULT_LISTING: Listing = {
    "AAPL": ("Apple Inc.", "equity", Decimal("189.50")),
    "MSFT": ("Microsoft Corp.", "equity", Decimal("415.20")),
    "GOOGL": ("Alphabet Inc.", "equity", Decimal("172.40")),
    "AMZN": ("Amazon.com Inc.", "equity", Decimal("186.90")),
    "NVDA": ("NVIDIA Corp.", "equity", Decimal("121.30")),
    "META": ("Meta Platforms Inc.", "equity", Decimal("503.70")),
    "TSLA": ("Tesla Inc.", "equity", Decimal("248.10")),
    "JPM": ("JPMorgan Chase & Co.", "equity", Decimal("201.60")),
    "V": ("Visa Inc.", "equity", Decimal("279.80")),
    "KO": ("The Coca-Cola Co.", "equity", Decimal("62.40")),
}


class PricesFileError(ValueError):
    """The prices file cannot be read; the message says where and why."""


def read_prices_file(path: Path) -> Listing:
    """The listing in a prices file (see the module docstring)."""
    try:
        # Numbers are read as decimals: 0.1 stays 0.1, not a binary float.
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, ValueError) as error:  # ValueError: not UTF-8, not JSON
        raise PricesFileError(f"cannot read prices file {path}: {error}") from error
    if not isinstance(data, dict) or not data:
        raise PricesFileError(f"prices file {path} must be a JSON object of symbol: price")
    listing: dict[str, tuple[str, str, Decimal]] = {}
    for symbol, entry in data.items():
        details = entry if isinstance(entry, dict) else {"price": entry}
        try:
            name = str(details.get("name", symbol))
            price = parse_decimal(details.get("price"), field=f"price of {symbol}")
            if price <= 0:
                raise ValueError("must be positive")
            listing[Symbol.parse(symbol).value] = (
                name,
                str(details.get("category", "equity")),
                price,
            )
        except Exception as error:
            raise PricesFileError(f"prices file {path}: {symbol}: {error}") from error
    return listing
