"""The ``orders`` command: submit and follow test orders.

Settings come from ``ORDERS_*`` environment variables; the global options
override them (flag > environment > default). Nothing is opened until a
command needs it, so ``orders --help`` works anywhere.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from order_adapters.bootstrap import OrderRuntime, bootstrap
from order_adapters.settings import DEMO_USER, Settings, SettingsError
from order_cli.errors import EXIT_USAGE, report, settings_sentence, usage_document
from order_cli.output import Printer
from order_core.errors import OrderError

__all__ = [
    "CliState",
    "app",
    "cli",
    "json_option",
    "main",
    "process_stored",
    "runs",
    "user_option",
]

_log = logging.getLogger("order_cli")
_P = ParamSpec("_P")
_R = TypeVar("_R")


class CliState:
    """What the global options chose; builds the runtime on first use."""

    def __init__(self, overrides: dict[str, Any], debug: bool) -> None:
        self.overrides = overrides
        self.debug = debug
        self._runtime: OrderRuntime | None = None

    def settings(self) -> Settings:
        return Settings.from_env().with_overrides(**self.overrides)

    def runtime(self) -> OrderRuntime:
        if self._runtime is None:
            self._runtime = bootstrap(self.settings())
            # What an earlier command stored but could not process goes first,
            # as a worker would take it up: the CLI is the embedded worker.
            process_stored(self._runtime)
        return self._runtime

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None


def runs(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn the library's errors into an exit code and a message (see
    :mod:`order_cli.errors`); ``--debug`` shows the traceback instead."""

    @functools.wraps(command)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        context = click.get_current_context()
        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            state = context.find_object(CliState)
            if state is not None and state.debug:
                raise
            as_json = bool(context.params.get("as_json"))
            code = report(error, as_json=as_json, command=context.command)
            context.exit(code)

    return run


def process_stored(runtime: OrderRuntime) -> OrderError | None:
    """Process what the command stored. A failure leaves it stored, to be
    processed by a later command, and is logged and returned, not raised: the
    command's own change was made."""
    try:
        runtime.pump()
    except OrderError as error:
        _log.warning("stored, but processing is deferred (%s): %s", error.code, error.message)
        return error
    return None


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


def printer(as_json: bool) -> Printer:
    return Printer(as_json)


def state() -> CliState:
    found = click.get_current_context().find_object(CliState)
    if found is None:  # a command invoked outside the `orders` group
        raise RuntimeError("orders commands run under the `orders` group")
    return found


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


def app() -> click.Group:
    """The ``orders`` group with every command registered."""
    # Imported here so importing this module stays cheap and side-effect free.
    from order_cli import account, admin, load, market, orders  # noqa: F401, PLC0415

    return cli


def main(args: Sequence[str] | None = None) -> None:
    """The ``orders`` executable: exits 0, or with the code of the error."""
    given = list(sys.argv[1:] if args is None else args)
    logging.basicConfig(
        format="orders: %(levelname)s: %(message)s",
        level=logging.DEBUG if "--debug" in given else logging.WARNING,
    )
    try:
        outcome = app().main(given, prog_name="orders", standalone_mode=False)
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
