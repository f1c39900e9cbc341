"""How the CLI prints: one JSON document (``--json``) whose field names are the
seed's gRPC field names, or readable tables."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import click
from rich import box
from rich.console import Console
from rich.table import Table

from order_core.decimals import format_decimal
from order_core.results import OrderDetails

__all__ = ["Printer", "plain"]


def plain(value: Any) -> Any:
    """``value`` as JSON data: decimals as exact text, instants as ISO 8601 UTC."""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return plain(value._asdict())
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    data = plain(value)
    return data if isinstance(data, str) else str(data)


class Printer:
    """Prints a result as JSON or as text, to stdout."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        # Piped output is not cut to 80 columns: ids must survive a copy.
        width = None if sys.stdout.isatty() else 160
        self._console = Console(highlight=False, soft_wrap=True, width=width)

    def json(self, document: Any) -> None:
        click.echo(json.dumps(plain(document), indent=2))

    def line(self, text: str) -> None:
        self._console.print(text, markup=False)

    def fields(self, title: str, values: Mapping[str, Any]) -> None:
        """A record as a two-column table."""
        table = Table(title=title, show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        for name, value in values.items():
            table.add_row(name, _text(value))
        self._console.print(table)

    def rows(self, title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
        for column in columns:
            # An order id cut short is useless, so it never shrinks.
            table.add_column(column, no_wrap=column == "order_id")
        for row in rows:
            table.add_row(*(_text(value) for value in row))
        self._console.print(table)

    def orders(self, title: str, orders: Iterable[OrderDetails]) -> None:
        self.rows(
            title,
            [
                "order_id",
                "created_at",
                "side",
                "type",
                "symbol",
                "quantity",
                "price",
                "status",
                "execution_price",
            ],
            (
                [
                    o.order_id,
                    o.created_at,
                    o.order_side,
                    o.order_type,
                    o.symbol,
                    o.quantity,
                    o.price
                    if o.stop_price is None
                    else f"{_text(o.price)} stop {_text(o.stop_price)}",
                    o.status,
                    o.execution_price,
                ]
                for o in orders
            ),
        )
