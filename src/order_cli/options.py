"""Parameter types and options the commands share."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import ParamSpec, TypeVar

import click

from order_adapters.simulated.demo import DEMO_USER
from order_core import OrderStatus

__all__ = ["NUMBER", "SIDES", "STATUSES", "TYPES", "json_option", "user_option"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class _Number(click.ParamType):  # type: ignore[type-arg]
    """A decimal number, kept as text so the service judges it exactly (and
    names the option when it refuses it)."""

    name = "NUMBER"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        text = str(value).strip()
        try:
            Decimal(text)
        except InvalidOperation:
            self.fail(f"{value!r} is not a number", param, ctx)
        return text


NUMBER = _Number()
SIDES = click.Choice(["buy", "sell"], case_sensitive=False)
TYPES = click.Choice(["market", "limit", "stop_loss", "stop_limit"], case_sensitive=False)
STATUSES = click.Choice([status.value for status in OrderStatus], case_sensitive=False)


def json_option(command: Callable[_P, _R]) -> Callable[_P, _R]:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document (the seed's field names)."
    )(command)


def user_option(command: Callable[_P, _R]) -> Callable[_P, _R]:
    return click.option(
        "--user",
        "user",
        default=str(DEMO_USER),
        show_default="the demo user",
        metavar="UUID",
        help="Act as this user.",
    )(command)
