"""Parameter types and options the commands share."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, ParamSpec, TypeVar

import click

from order_adapters.simulated.demo import DEMO_USER
from order_core import OrderStatus

__all__ = [
    "MAX_OFFSET",
    "NUMBER",
    "SIDES",
    "STATUSES",
    "TYPES",
    "json_option",
    "user_option",
    "whole",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: The largest ``--offset``: a 64-bit integer, what SQLite and PostgreSQL take.
MAX_OFFSET = 2**63 - 1
#: A whole number as typed: ASCII digits and a sign (``int()`` also takes
#: Arabic-Indic ``"\u0661\u0660"`` and ``"1_000"``).
_WHOLE_TEXT = re.compile(r"[+-]?[0-9]+")


class _Number(click.ParamType):  # type: ignore[type-arg]
    """A decimal number, kept as text so the service judges it exactly (and
    names the option when it refuses it)."""

    name = "NUMBER"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        text = str(value).strip()
        try:
            Decimal(text)  # the service refuses what is not ASCII, naming the option
        except InvalidOperation:
            self.fail(f"{value!r} is not a number", param, ctx)
        return text


def _ascii_whole(
    kind: click.ParamType[Any], value: Any, param: click.Parameter | None, ctx: click.Context | None
) -> None:
    if isinstance(value, str) and not _WHOLE_TEXT.fullmatch(value.strip()):
        kind.fail(f"{value!r} is not a valid integer.", param, ctx)


class _Whole(click.types.IntParamType):
    """click's integer, in ASCII digits only."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        _ascii_whole(self, value, param, ctx)
        return super().convert(value, param, ctx)


class _WholeRange(click.IntRange):
    """click's integer range, in ASCII digits only."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        _ascii_whole(self, value, param, ctx)
        return super().convert(value, param, ctx)


def whole(low: int | None = None, high: int | None = None) -> click.ParamType[Any]:
    """A whole-number option type: ASCII digits, within ``low``-``high`` if given."""
    if low is None and high is None:
        return _Whole()
    return _WholeRange(low, high)


class _AsciiChoice(click.Choice):  # type: ignore[type-arg]
    """A case-insensitive choice of ASCII words: click compares casefolded
    text, in which ``"\u017fell"`` (long s) is ``"sell"``."""

    def __init__(self, choices: list[str]) -> None:
        super().__init__(choices, case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.isascii():
            choices = ", ".join(repr(choice) for choice in self.choices)
            self.fail(f"{value!r} is not one of {choices}.", param, ctx)
        return super().convert(value, param, ctx)


NUMBER = _Number()
SIDES = _AsciiChoice(["buy", "sell"])
TYPES = _AsciiChoice(["market", "limit", "stop_loss", "stop_limit"])
STATUSES = _AsciiChoice([status.value for status in OrderStatus])


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


#: ``--metrics-port`` of the long-running commands.
METRICS_PORT = click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="Serve Prometheus metrics on 127.0.0.1:PORT/metrics.",
)
