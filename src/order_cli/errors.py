"""What the CLI does with an error: the exit code, and a sentence on stderr
(or a JSON error document with ``--json``). Never a traceback unless --debug.

Exit codes follow the error's category: 2 bad usage or malformed input (the
option is named); 3 a dependency is down; 1 anything else (a rule refused, or
the order is unknown, another user's, or in the wrong state).
"""

from __future__ import annotations

import json
from typing import Any

import click

from order_adapters.settings import SettingsError
from order_core.errors import ErrorCategory, OrderError

__all__ = [
    "EXIT_DEPENDENCY",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "exit_code_of",
    "parameter_of",
    "usage_document",
    "report",
    "settings_sentence",
]

EXIT_REFUSED, EXIT_USAGE, EXIT_DEPENDENCY = 1, 2, 3

_EXIT_CODES = {
    ErrorCategory.INVALID_INPUT: EXIT_USAGE,
    ErrorCategory.UNAVAILABLE: EXIT_DEPENDENCY,
}
#: How the sentence on stderr starts, by category; the rest are "Refused".
_PREFIXES = {
    ErrorCategory.UNAVAILABLE: "Unavailable",
    ErrorCategory.REJECTED: "Rejected",
}


def exit_code_of(category: ErrorCategory) -> int:
    """The exit code for an error of ``category``."""
    return _EXIT_CODES.get(category, EXIT_REFUSED)


#: The core's field names (the seed's gRPC fields) whose parameter is named otherwise.
PARAMETERS = {
    "user_id": "user",
    "order_side": "side",
    "status": "status_filter",
}


def parameter_of(field: str | None, command: click.Command | None) -> str | None:
    """How ``command`` spells the input behind ``field`` (``--user``, ``ORDER_ID``),
    or None when the command has no such input."""
    if field is None or command is None:
        return None
    name = PARAMETERS.get(field, field)
    for parameter in command.params:
        if parameter.name == name:
            if isinstance(parameter, click.Option):
                return parameter.opts[0]
            return parameter.human_readable_name
    return None


def usage_document(error: click.ClickException) -> dict[str, Any]:
    """A usage error (raised by click before a command ran) as an error document."""
    option: str | None = None
    if isinstance(error, click.BadParameter) and error.param is not None:
        parameter = error.param
        option = (
            parameter.opts[0]
            if isinstance(parameter, click.Option)
            else (parameter.human_readable_name)
        )
    elif isinstance(error, click.NoSuchOption):
        option = error.option_name
    return {"code": "USAGE_ERROR", "message": error.format_message(), "option": option}


def report(error: BaseException, *, as_json: bool, command: click.Command | None = None) -> int:
    """Tell the user what went wrong, naming ``command``'s input at fault; the
    exit code to leave with."""
    code, document, sentence = _describe(error, command)
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


def _describe(
    error: BaseException, command: click.Command | None
) -> tuple[int, dict[str, Any], str]:
    if isinstance(error, SettingsError):
        document = {
            "code": "INVALID_SETTINGS",
            "message": error.message,
            "setting": error.variable,
            "option": FLAGS.get(error.setting or ""),
        }
        return EXIT_USAGE, document, settings_sentence(error)
    if isinstance(error, OrderError):
        data: dict[str, Any] = error.to_dict()
        option = parameter_of(error.field, command)
        data["option"] = option
        code = exit_code_of(error.category)
        if error.category is ErrorCategory.INVALID_INPUT:
            named = option or error.field
            where = f"{named}: " if named else ""
            return code, data, f"Error: {where}{error.message} ({error.code})"
        prefix = _PREFIXES.get(error.category, "Refused")
        return code, data, f"{prefix} ({error.code}): {error.message}"
    message = f"{type(error).__name__}: {error}"
    return (
        EXIT_REFUSED,
        {"code": "INTERNAL_ERROR", "message": message},
        f"Internal error: {message} (run with --debug for the traceback)",
    )
