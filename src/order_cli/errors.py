"""What the CLI does with an error: the exit code, and a sentence on stderr
(or a JSON error document with ``--json``). Never a traceback unless --debug.

Exit codes: 1 a rule refused, or the order is unknown, another user's, or in
the wrong state; 2 bad usage or malformed input (the option is named); 3 a
dependency is down.
"""

from __future__ import annotations

import json
from typing import Any

import click

from order_adapters.settings import SettingsError
from order_core.errors import DependencyUnavailable, InvalidInput, OrderError, OrderRejected

__all__ = ["EXIT_DEPENDENCY", "EXIT_REFUSED", "EXIT_USAGE", "report", "settings_sentence"]

EXIT_REFUSED, EXIT_USAGE, EXIT_DEPENDENCY = 1, 2, 3

#: The core's field names (the seed's gRPC fields) as the CLI's options.
OPTIONS = {
    "user_id": "--user",
    "order_side": "--side",
    "order_type": "--type",
    "stop_price": "--stop-price",
    "idempotency_key": "--idempotency-key",
    "order_id": "ORDER_ID",
    "quantity": "--quantity",
    "price": "--price",
    "symbol": "--symbol",
    "limit": "--limit",
    "offset": "--offset",
    "status": "--status",
}


def report(error: BaseException, *, as_json: bool) -> int:
    """Tell the user what went wrong; the exit code to leave with."""
    code, document, sentence = _describe(error)
    if as_json:
        click.echo(json.dumps({"error": document}, indent=2))
    click.echo(sentence, err=True)
    return code


#: Settings the global options set, named as the option and the variable.
FLAGS = {
    "database_url": "--database-url",
    "broker_url": "--broker-url",
    "redis_url": "--redis-url",
    "data_dir": "--data-dir",
    "prices_file": "--prices-file",
}


def settings_sentence(error: SettingsError) -> str:
    """``Error: --database-url / ORDERS_DATABASE_URL: ...``: both places the
    value could have come from."""
    flag = FLAGS.get(error.setting or "")
    if flag is None:
        return f"Error: {error}"
    return f"Error: {flag} / {error.variable}: {error.message}"


def _describe(error: BaseException) -> tuple[int, dict[str, Any], str]:
    if isinstance(error, SettingsError):
        document = {
            "code": "INVALID_SETTINGS",
            "message": error.message,
            "setting": error.variable,
            "option": FLAGS.get(error.setting or ""),
        }
        return EXIT_USAGE, document, settings_sentence(error)
    if isinstance(error, OrderError):
        data = error.to_dict()
        option = OPTIONS.get(error.field or "", error.field)
        if option is not None:
            data["option"] = option
        if isinstance(error, InvalidInput):
            return EXIT_USAGE, data, f"Error: {option}: {error.message} ({error.code})"
        if isinstance(error, DependencyUnavailable):
            return EXIT_DEPENDENCY, data, f"Unavailable ({error.code}): {error.message}"
        if isinstance(error, OrderRejected):
            return EXIT_REFUSED, data, f"Rejected ({error.code}): {error.message}"
        return EXIT_REFUSED, data, f"Refused ({error.code}): {error.message}"
    message = f"{type(error).__name__}: {error}"
    return (
        EXIT_REFUSED,
        {"code": "INTERNAL_ERROR", "message": message},
        f"Internal error: {message} (run with --debug for the traceback)",
    )
