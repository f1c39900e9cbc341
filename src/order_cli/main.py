"""The ``orders`` command: submit and follow test orders.

Settings come from ``ORDERS_*`` environment variables; the global options
override them (flag > environment > default). Nothing is opened until a
command needs it, so ``orders --help`` works anywhere.

This module builds the ``orders`` group and adds every command to it; the
command modules define plain click commands and know nothing of the group.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from order_adapters.settings import SettingsError
from order_cli.account import account
from order_cli.admin import db, info
from order_cli.errors import EXIT_USAGE, settings_sentence, usage_document
from order_cli.load import load
from order_cli.market import market
from order_cli.operations import audit, recover
from order_cli.orders import cancel, history, show, status, submit
from order_cli.relay import relay
from order_cli.serve import serve
from order_cli.simulate import simulate
from order_cli.stack import stack
from order_cli.state import CliState
from order_cli.worker import worker

__all__ = ["app", "cli", "main"]

_HELP = """Submit and follow test orders.

With no configuration, orders live in a SQLite file in the per-user data
directory (ORDERS_DATA_DIR), are processed right after they are stored, and
trade against a simulated market and a demo account. `orders info` shows where
the data lives and what is wired.
"""


@click.group(help=_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database-url",
    metavar="URL",
    help="sqlite:///path, postgresql+psycopg://... or memory:// [env ORDERS_DATABASE_URL]",
)
@click.option("--broker-url", metavar="URL", help="memory:// [env ORDERS_BROKER_URL]")
@click.option("--redis-url", metavar="URL", help="redis://host:6379/0 [env ORDERS_REDIS_URL]")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the embedded default keeps its files [env ORDERS_DATA_DIR]",
)
@click.option(
    "--prices-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON starting prices instead of the built-in ones [env ORDERS_PRICES_FILE]",
)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="order-service", prog_name="orders")
@click.pass_context
def cli(
    context: click.Context,
    *,
    database_url: str | None,
    broker_url: str | None,
    redis_url: str | None,
    data_dir: Path | None,
    prices_file: Path | None,
    debug: bool,
) -> None:
    overrides = {
        "database_url": database_url,
        "broker_url": broker_url,
        "redis_url": redis_url,
        "data_dir": data_dir,
        "prices_file": prices_file,
    }
    cli_state = CliState(overrides, debug)
    context.obj = cli_state
    context.call_on_close(cli_state.close)


for _command in (
    submit,
    show,
    status,
    cancel,
    history,
    account,
    market,
    load,
    info,
    db,
    recover,
    audit,
    serve,
    relay,
    worker,
    simulate,
    stack,
):
    cli.add_command(_command)


def app() -> click.Group:
    """The ``orders`` group, every command added."""
    return cli


def main(args: Sequence[str] | None = None) -> None:
    """The ``orders`` executable: exits 0, or with the code of the error."""
    given = list(sys.argv[1:] if args is None else args)
    logging.basicConfig(
        format="orders: %(levelname)s: %(message)s",
        level=logging.DEBUG if "--debug" in given else logging.WARNING,
    )
    try:
        outcome = cli.main(given, prog_name="orders", standalone_mode=False)
    except click.ClickException as error:  # usage: unknown option, malformed value...
        if "--json" in given:
            click.echo(json.dumps({"error": usage_document(error)}, indent=2))
        error.show()
        sys.exit(error.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except SettingsError as error:  # raised while reading settings, before a command ran
        click.echo(settings_sentence(error), err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(outcome if isinstance(outcome, int) else 0)


if __name__ == "__main__":  # python -m order_cli.main
    main()
