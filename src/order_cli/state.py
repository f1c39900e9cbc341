"""What every command shares: the global options' choices, the runtime they
build on first use, the processing of stored work, and turning errors into
exit codes (:func:`runs`)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import click

from order_adapters.bootstrap import bootstrap
from order_adapters.memory.broker import InProcessBroker
from order_adapters.runners import InProcessProcessing
from order_adapters.runtime import Runtime
from order_adapters.settings import Settings
from order_cli.errors import report
from order_core.errors import OrderError

__all__ = ["CliState", "runs", "state"]

_log = logging.getLogger("order_cli")
_P = ParamSpec("_P")
_R = TypeVar("_R")


class CliState:
    """What the global options chose; builds the runtime and its processing
    runner on first use."""

    def __init__(self, overrides: dict[str, Any], debug: bool) -> None:
        self.overrides = overrides
        self.debug = debug
        self._settings: Settings | None = None
        self._runtime: Runtime | None = None
        self._processing: InProcessProcessing | None = None
        #: How many abandoned orders the recovery pass at start took up.
        self.recovered_at_start = 0

    def settings(self) -> Settings:
        """Read once per command (a deprecated variable is warned about once)."""
        if self._settings is None:
            self._settings = Settings.from_env().with_overrides(**self.overrides)
        return self._settings

    def runtime(self) -> Runtime:
        if self._runtime is None:
            runtime = bootstrap(self.settings())
            try:
                # Once per runtime: the runner subscribes the consumers. With a
                # real broker the command only stores: relay and worker do the rest.
                if isinstance(runtime.publisher, InProcessBroker):
                    self._processing = InProcessProcessing.of(runtime)
            except BaseException:
                runtime.close()
                raise
            self._runtime = runtime
            if self._processing is not None:
                # What an earlier command left behind goes first, as a worker would
                # take it up: the CLI is the embedded worker (and its recovery).
                self._recover()
                self.process_stored()
        return self._runtime

    @property
    def processes_here(self) -> bool:
        """Whether this command processes what it stores (``memory://``), or
        leaves it to ``orders worker`` (a real broker)."""
        self.runtime()
        return self._processing is not None

    def _recover(self) -> None:
        assert self._runtime is not None
        try:
            settings = self.settings()
            report = self._runtime.service.recover(
                stale_after=settings.stale_after, keep_positions=settings.keeps_positions
            )
        except OrderError as error:
            _log.warning("recovery is deferred (%s): %s", error.code, error.message)
            return
        self.recovered_at_start = report.examined

    def process_stored(self) -> OrderError | None:
        """Process what the command stored. A failure leaves it stored, to be
        processed by a later command, and is logged and returned, not raised:
        the command's own change was made. Safe from several threads."""
        if self._processing is None:  # nothing opened, so nothing stored
            return None
        try:
            self._processing.pump()
        except OrderError as error:
            _log.warning("stored, but processing is deferred (%s): %s", error.code, error.message)
            return error
        return None

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = self._processing = None


def state() -> CliState:
    found = click.get_current_context().find_object(CliState)
    if found is None:  # a command invoked outside the `orders` group
        raise RuntimeError("orders commands run under the `orders` group")
    return found


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
            found = context.find_object(CliState)
            if found is not None and found.debug:
                raise
            as_json = bool(context.params.get("as_json"))
            code = report(error, as_json=as_json, command=context.command)
            context.exit(code)

    return run
