"""Administration: the database schema, and what is wired."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from order_adapters.about import versions
from order_adapters.bootstrap import migrate
from order_adapters.settings import Settings, variable_of
from order_adapters.simulated.demo import DEMO_USER
from order_adapters.urls import redacted
from order_cli.options import json_option
from order_cli.output import Printer
from order_cli.state import runs, state

__all__ = ["db", "info"]


@click.group()
def db() -> None:
    """The database."""


@db.command()
@json_option
@runs
def upgrade(as_json: bool) -> None:
    """Bring the database to the newest schema (none to apply is fine)."""
    database, revision = migrate(state().settings())
    out = Printer(as_json)
    if as_json:
        out.json({"database": database, "revision": revision})
    elif revision is None:
        out.line("memory:// keeps nothing: there is no schema to migrate")
    else:
        out.line(f"{database} is at schema revision {revision} (newest)")


@click.command()
@json_option
@runs
def info(as_json: bool) -> None:
    """Where the data lives, what is wired, the settings, and versions."""
    cli_state = state()
    settings = cli_state.settings()
    runtime = cli_state.runtime()
    configured = _by_variable(settings)
    document = {
        "data_dir": str(settings.data_path),
        **runtime.wiring,
        "demo_user": str(DEMO_USER),
        "versions": versions(),
        "settings": configured,
    }
    out = Printer(as_json)
    if as_json:
        out.json(document)
        return
    shown = {key: value for key, value in document.items() if key not in ("versions", "settings")}
    shown["versions"] = ", ".join(f"{name} {version}" for name, version in versions().items())
    out.fields("orders", shown)
    out.fields("Settings", configured)


def _by_variable(settings: Settings) -> dict[str, object]:
    """Every setting under its ``ORDERS_*`` variable, written as that variable
    takes it (durations in seconds, paths as text), URLs without a password."""
    return {variable_of(name): _as_set(name, value) for name, value in settings.flat()}


def _as_set(name: str, value: object) -> object:
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        return int(seconds) if seconds.is_integer() else seconds
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str) and name.endswith("_url"):
        return redacted(value)
    if value is not None and name.endswith("_secret"):
        return "***"  # set, and never shown
    return value
