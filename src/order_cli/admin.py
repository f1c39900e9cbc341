"""Administration: the database schema and what is wired."""

from __future__ import annotations

from order_adapters.bootstrap import migrate, versions
from order_adapters.settings import DEMO_USER
from order_cli.main import cli, json_option, printer, runs, state

__all__: list[str] = []


@cli.group()
def db() -> None:
    """The database."""


@db.command()
@json_option
@runs
def upgrade(as_json: bool) -> None:
    """Bring the database to the newest schema (none to apply is fine)."""
    database, revision = migrate(state().settings())
    out = printer(as_json)
    if as_json:
        out.json({"database": database, "revision": revision})
    elif revision is None:
        out.line("memory:// keeps nothing: there is no schema to migrate")
    else:
        out.line(f"{database} is at schema revision {revision} (newest)")


@cli.command()
@json_option
@runs
def info(as_json: bool) -> None:
    """Where the data lives, what is wired, and versions."""
    cli_state = state()
    settings = cli_state.settings()
    runtime = cli_state.runtime()
    document = {
        "data_dir": str(settings.data_path),
        **runtime.wiring,
        "demo_user": str(DEMO_USER),
        "versions": versions(),
    }
    out = printer(as_json)
    if as_json:
        out.json(document)
        return
    shown = {key: value for key, value in document.items() if key != "versions"}
    shown["versions"] = ", ".join(f"{name} {version}" for name, version in versions().items())
    out.fields("orders", shown)
