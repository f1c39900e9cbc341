"""The ``orders`` command through click's runner, on the embedded default (a
SQLite file in a temporary data directory): what a user sees, and the exit
codes scripts rely on (0 done, 1 refused or not found, 2 usage, 3 down)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from order_adapters.simulated.demo import DEMO_USER
from order_cli.errors import exit_code_of
from order_cli.main import app, main
from order_core.errors import ErrorCategory
from tests.services import closed_port

OTHER_USER = "22222222-2222-4222-8222-222222222222"
UNKNOWN_ORDER = "00000000-0000-4000-8000-000000000000"

Invoke = Callable[..., Result]


@pytest.fixture
def orders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``orders ARGS`` against a data directory of this test's own."""
    for variable in [name for name in os.environ if name.startswith("ORDERS_")]:
        monkeypatch.delenv(variable)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        environment = {"ORDERS_DATA_DIR": str(tmp_path / "data"), **(env or {})}
        result = runner.invoke(app(), list(args), env=environment)
        # Anything but an exit means an exception escaped the command: a traceback.
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result

    return invoke


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def submitted(orders: Invoke, *args: str) -> dict[str, Any]:
    document: dict[str, Any] = as_json(orders("submit", "--json", *args))
    return document


# -- the happy paths -------------------------------------------------------------------


def test_a_market_order_is_submitted_and_executed_at_once(orders: Invoke) -> None:
    result = orders("submit", "--symbol", "aapl", "--side", "buy", "--quantity", "10")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Submitted ")
    assert "BUY 10 AAPL MARKET, estimated 1895 at 189.5 (market 189.5)" in result.stdout
    assert "Now EXECUTED: Order executed at 189.5" in result.stdout


def test_submit_json_uses_the_seed_field_names(orders: Invoke) -> None:
    document = submitted(orders, "--symbol", "AAPL", "--side", "buy", "--quantity", "2")

    assert document["status"] == "PENDING"  # as the receipt says at submission
    assert document["current_status"] == "EXECUTED"
    assert document["estimated_price"] == "189.5"
    assert document["estimated_value"] == "379"
    assert document["market_price"] == "189.5"
    assert document["replayed"] is False
    details = as_json(orders("show", document["order_id"], "--json"))
    assert details["execution_price"] == "189.5"
    assert details["execution_value"] == "379"
    assert details["user_id"] == str(DEMO_USER)


def test_a_limit_rests_until_the_price_reaches_it_and_market_set_says_so(orders: Invoke) -> None:
    limit = submitted(
        orders, "--symbol", "AAPL", "--side", "buy", "--type", "limit", "--quantity", "5",
        "--price", "180",
    )  # fmt: skip
    assert limit["current_status"] == "PENDING"

    above = orders("market", "set", "AAPL", "185")
    assert above.exit_code == 0
    assert "No resting order became executable." in above.stdout

    moved = orders("market", "set", "AAPL", "179.5")
    assert moved.exit_code == 0, moved.output
    assert "AAPL is now 179.5" in moved.stdout
    assert "Executed (1)" in moved.stdout
    assert limit["order_id"] in moved.stdout

    status = as_json(orders("status", limit["order_id"], "--json"))
    assert status["status"] == "EXECUTED"
    assert status["status_message"] == "Order executed at 179.5"


def test_market_set_json_lists_what_executed(orders: Invoke) -> None:
    stop = submitted(
        orders, "--symbol", "TSLA", "--side", "sell", "--type", "stop_loss", "--quantity", "2",
        "--stop-price", "240",
    )  # fmt: skip

    document = as_json(orders("market", "set", "TSLA", "239", "--json"))

    assert document["price"] == "239"
    assert [e["order_id"] for e in document["executed"]] == [stop["order_id"]]
    assert document["executed"][0]["execution_price"] == "239"


def test_cancel_a_resting_order_then_cancel_again_is_refused(orders: Invoke) -> None:
    limit = submitted(
        orders, "--symbol", "MSFT", "--side", "buy", "--type", "limit", "--quantity", "1",
        "--price", "400",
    )  # fmt: skip

    cancelled = orders("cancel", limit["order_id"], "--json")
    assert as_json(cancelled)["status"] == "CANCELLED"

    again = orders("cancel", limit["order_id"])
    assert again.exit_code == 1
    assert "Refused (ORDER_NOT_CANCELLABLE)" in again.stderr
    assert "CANCELLED" in again.stderr


def test_history_pages_and_filters_newest_first(orders: Invoke) -> None:
    ids = [
        submitted(orders, "--symbol", "KO", "--side", "buy", "--quantity", str(n))["order_id"]
        for n in (1, 2, 3)
    ]
    resting = submitted(
        orders, "--symbol", "KO", "--side", "buy", "--type", "limit", "--quantity", "1",
        "--price", "60",
    )["order_id"]  # fmt: skip

    page = as_json(orders("history", "--limit", "2", "--offset", "1", "--json"))
    assert page["total_count"] == 4
    assert [o["order_id"] for o in page["orders"]] == [ids[2], ids[1]]
    assert (page["limit"], page["offset"]) == (2, 1)

    pending = as_json(orders("history", "--status", "pending", "--json"))
    assert [o["order_id"] for o in pending["orders"]] == [resting]

    table = orders("history")
    assert "Orders 1-4 of 4" in table.stdout
    assert all(order_id in table.stdout for order_id in [*ids, resting])


def test_the_same_idempotency_key_returns_the_first_order(orders: Invoke) -> None:
    args = ("submit", "--symbol", "NVDA", "--side", "buy", "--quantity", "1")
    first = orders(*args, "--idempotency-key", "demo-1")
    second = orders(*args, "--idempotency-key", "demo-1")

    assert first.exit_code == second.exit_code == 0
    order_id = first.stdout.split()[1].rstrip(":")
    assert second.stdout.startswith(f"Already submitted {order_id}:")
    assert as_json(orders("history", "--json"))["total_count"] == 1


def test_an_identical_order_without_a_key_is_answered_with_the_first(orders: Invoke) -> None:
    args = ("submit", "--symbol", "NVDA", "--side", "buy", "--quantity", "1")
    first = orders(*args)
    second = orders(*args)

    order_id = first.stdout.split()[1].rstrip(":")
    assert second.stdout.startswith(f"Already submitted {order_id}:")


def test_derived_keys_can_be_turned_off(orders: Invoke) -> None:
    args = ("submit", "--symbol", "NVDA", "--side", "buy", "--quantity", "1", "--json")
    off = {"ORDERS_IDEMPOTENCY_DERIVED_KEY_WINDOW": "0"}

    first = as_json(orders(*args, env=off))
    second = as_json(orders(*args, env=off))

    assert first["order_id"] != second["order_id"]
    assert as_json(orders("history", "--json"))["total_count"] == 2


def test_the_demo_account_carries_over_between_invocations(orders: Invoke) -> None:
    before = as_json(orders("account", "--json"))
    orders("submit", "--symbol", "AAPL", "--side", "sell", "--quantity", "5")

    after = as_json(orders("account", "--json"))

    assert before["cash"] == "100000"
    assert after["cash"] == "100947.5"  # 5 x 189.5 credited
    aapl = next(p for p in after["positions"] if p["symbol"] == "AAPL")
    assert (aapl["quantity"], aapl["available"]) == ("45", "45")


def test_a_closed_market_refuses_orders_until_it_opens(orders: Invoke) -> None:
    assert orders("market", "close", "AAPL").exit_code == 0
    listing = as_json(orders("market", "--json"))
    assert {a["symbol"]: a["market_open"] for a in listing["assets"]}["AAPL"] is False

    refused = orders("submit", "--symbol", "AAPL", "--side", "buy", "--quantity", "1")
    assert refused.exit_code == 1
    assert "Rejected (MARKET_CLOSED)" in refused.stderr

    assert orders("market", "open", "AAPL").exit_code == 0
    assert orders("submit", "--symbol", "AAPL", "--side", "buy", "--quantity", "1").exit_code == 0


def test_info_and_db_upgrade_say_where_the_data_lives(orders: Invoke, tmp_path: Path) -> None:
    database = tmp_path / "data" / "orders.db"

    upgraded = orders("db", "upgrade", "--json")
    info = as_json(orders("info", "--json"))

    assert as_json(upgraded) == {"database": f"sqlite:///{database}", "revision": "0003"}
    assert info["data_dir"] == str(tmp_path / "data")
    assert info["database"] == f"sqlite:///{database}"
    assert info["idempotency"] == "database records"
    assert info["broker"].startswith("memory://")
    assert info["demo_user"] == str(DEMO_USER)
    assert "order-service" in info["versions"]
    settings = info["settings"]  # by variable, as set (None: the default applies)
    assert settings["ORDERS_DATA_DIR"] == str(tmp_path / "data")
    assert settings["ORDERS_DATABASE_URL"] is None
    assert settings["ORDERS_BROKER_URL"] == "memory://"
    assert settings["ORDERS_IDEMPOTENCY_TTL"] == 86400


def test_load_reports_throughput_latency_and_how_every_order_ended(orders: Invoke) -> None:
    document = as_json(orders("load", "--count", "60", "--seed", "3", "--json"))

    assert document["orders"] == 60
    assert document["unfinished"] == 0
    assert sum(document["outcomes"].values()) == 60
    assert set(document["outcomes"]) <= {"EXECUTED", "PENDING", "CANCELLED", "FAILED"} | {
        code for code in document["outcomes"] if code.startswith("rejected: ")
    }
    assert document["orders_per_second"] > 0
    latency = document["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
    # The load runs on accounts of its own: the demo account is untouched.
    assert as_json(orders("history", "--json"))["total_count"] == 0


@pytest.mark.parametrize("threads", ["4", "64"])
def test_load_with_threads_finishes_every_order(orders: Invoke, threads: str) -> None:
    document = as_json(orders("load", "--count", "130", "--concurrency", threads, "--json"))

    assert document["unfinished"] == 0
    assert document["processing_errors"] == {}
    assert sum(document["outcomes"].values()) == 130


def test_a_stored_order_whose_processing_fails_is_still_reported(
    orders: Invoke, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from order_adapters.runners import InProcessProcessing  # noqa: PLC0415
    from order_core.errors import DependencyUnavailable  # noqa: PLC0415

    def broker_down(_: InProcessProcessing) -> int:
        raise DependencyUnavailable("broker", "connection refused")

    monkeypatch.setattr(InProcessProcessing, "pump", broker_down)

    result = orders("submit", "--symbol", "AAPL", "--side", "buy", "--quantity", "1")

    assert result.exit_code == 0
    assert result.stdout.startswith("Submitted ")
    assert "processing is deferred (DEPENDENCY_UNAVAILABLE)" in caplog.text  # on stderr
    monkeypatch.undo()
    history = as_json(orders("history", "--json"))  # this command processes it
    assert [o["status"] for o in history["orders"]] == ["EXECUTED"]


# -- errors: exit code and message -------------------------------------------------------


def test_a_rule_rejection_exits_1_with_its_code_on_stderr(orders: Invoke) -> None:
    result = orders("submit", "--symbol", "AAPL", "--side", "buy", "--quantity", "100000")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Rejected (MAX_ORDER_VALUE_EXCEEDED): order value 18950000")
    assert "exceeds the maximum 1000000" in result.stderr


def test_a_rejection_with_json_prints_an_error_document(orders: Invoke) -> None:
    result = orders("submit", "--symbol", "AAPL", "--side", "sell", "--quantity", "51", "--json")

    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "INSUFFICIENT_POSITION"
    assert (error["field"], error["option"]) == ("quantity", "--quantity")
    assert (error["limit"], error["value"]) == ("50", "51")
    assert "Rejected (INSUFFICIENT_POSITION)" in result.stderr


def test_a_user_without_an_account_exits_1(orders: Invoke) -> None:
    result = orders("account", "--user", OTHER_USER, "--json")

    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["option"] == "--user"
    assert result.stderr.strip() == (
        f"Refused (ACCOUNT_NOT_FOUND): user {OTHER_USER} has no trading account"
    )


@pytest.mark.parametrize(
    ("category", "code"),
    [
        (ErrorCategory.INVALID_INPUT, 2),
        (ErrorCategory.UNAVAILABLE, 3),
        (ErrorCategory.REJECTED, 1),
        (ErrorCategory.NOT_FOUND, 1),
        (ErrorCategory.FORBIDDEN, 1),
        (ErrorCategory.WRONG_STATE, 1),
        (ErrorCategory.CONFLICT, 1),
    ],
)
def test_the_exit_code_follows_the_errors_category(category: ErrorCategory, code: int) -> None:
    assert exit_code_of(category) == code


@pytest.mark.parametrize(
    "args",
    [
        ("show", UNKNOWN_ORDER),
        ("status", UNKNOWN_ORDER),
        ("cancel", UNKNOWN_ORDER),
    ],
)
def test_an_unknown_order_exits_1(orders: Invoke, args: tuple[str, ...]) -> None:
    result = orders(*args)

    assert result.exit_code == 1
    assert f"Refused (ORDER_NOT_FOUND): order {UNKNOWN_ORDER} not found" in result.stderr


@pytest.mark.parametrize("command", ["show", "status", "cancel"])
def test_another_users_order_exits_1_and_reveals_nothing(orders: Invoke, command: str) -> None:
    mine = submitted(
        orders, "--symbol", "AAPL", "--side", "buy", "--type", "limit", "--quantity", "1",
        "--price", "180",
    )["order_id"]  # fmt: skip

    result = orders(command, mine, "--user", OTHER_USER)

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Refused (ORDER_ACCESS_DENIED): order {mine} belongs to another user"
    )
    assert result.stdout == ""
    assert as_json(orders("status", mine, "--json"))["status"] == "PENDING"


@pytest.mark.parametrize(
    ("args", "option", "message"),
    [
        (("--quantity", "-3"), "--quantity", "quantity must be greater than 0, got -3"),
        (("--quantity", "0"), "--quantity", "quantity must be greater than 0"),
        (("--quantity", "ten"), "--quantity", "'ten' is not a number"),
        (("--quantity", "1", "--side", "hold"), "--side", "'hold' is not one of 'buy', 'sell'"),
        (("--quantity", "1", "--type", "iceberg"), "--type", "'iceberg' is not one of"),
        (("--quantity", "1", "--type", "limit"), "--price", "price is required for LIMIT"),
        (("--quantity", "1", "--price", "abc"), "--price", "'abc' is not a number"),
        (("--quantity", "1", "--user", "bob"), "--user", "user_id must be a UUID"),
        (("--quantity", "1", "--symbol", "A$PL"), "--symbol", "symbol"),
    ],
)
def test_malformed_input_exits_2_naming_the_option(
    orders: Invoke, args: tuple[str, ...], option: str, message: str
) -> None:
    base = {"--symbol": "AAPL", "--side": "buy"}
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = [item for pair in {**base, **given}.items() for item in pair]

    result = orders("submit", *argv)

    assert result.exit_code == 2, result.output
    assert option in result.stderr
    assert message in result.stderr
    assert as_json(orders("history", "--json"))["total_count"] == 0


def test_a_refusal_names_only_an_option_the_command_has(orders: Invoke) -> None:
    order_id = submitted(orders, "--symbol", "AAPL", "--side", "buy", "--quantity", "1")["order_id"]

    result = orders("cancel", order_id, "--json")

    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["field"], error["option"]) == (
        "ORDER_NOT_CANCELLABLE",
        "status",
        None,
    )


def test_usage_errors_with_json_print_an_error_document(
    capsys: pytest.CaptureFixture[str], orders: Invoke
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["submit", "--symbol", "AAPL", "--side", "buy", "--quantity", "ten", "--json"])

    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {
        "error": {
            "code": "USAGE_ERROR",
            "message": "Invalid value for '--quantity': 'ten' is not a number",
            "option": "--quantity",
        }
    }
    assert "Error: Invalid value for '--quantity'" in captured.err


def test_main_exits_with_the_commands_code(
    capsys: pytest.CaptureFixture[str], orders: Invoke, tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--data-dir", str(tmp_path), "show", UNKNOWN_ORDER])

    assert exited.value.code == 1
    assert "Refused (ORDER_NOT_FOUND)" in capsys.readouterr().err


def test_a_missing_required_option_exits_2(orders: Invoke) -> None:
    result = orders("submit", "--symbol", "AAPL", "--side", "buy")

    assert result.exit_code == 2
    assert "Missing option '--quantity'" in result.stderr


def test_a_malformed_order_id_exits_2(orders: Invoke) -> None:
    result = orders("show", "not-an-id")

    assert result.exit_code == 2
    assert "ORDER_ID: order_id must be a UUID, got 'not-an-id'" in result.stderr


def test_malformed_input_with_json_names_the_option(orders: Invoke) -> None:
    result = orders("submit", "--symbol", "AAPL", "--side", "buy", "--quantity", "-1", "--json")

    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["option"]) == ("NOT_POSITIVE", "--quantity")


def test_a_database_that_is_down_exits_3(orders: Invoke) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test"

    result = orders("--database-url", url, "submit", "--symbol", "AAPL", "--side", "buy",
                    "--quantity", "1")  # fmt: skip

    assert result.exit_code == 3
    assert result.stderr.startswith("Unavailable (DEPENDENCY_UNAVAILABLE): database")


def test_redis_that_is_down_exits_3_and_submits_nothing(orders: Invoke) -> None:
    redis_url = f"redis://127.0.0.1:{closed_port()}/0"

    result = orders("--redis-url", redis_url, "submit", "--symbol", "AAPL", "--side", "buy",
                    "--quantity", "1")  # fmt: skip

    assert result.exit_code == 3
    assert result.stderr.startswith("Unavailable (DEPENDENCY_UNAVAILABLE): redis")
    assert as_json(orders("history", "--json"))["total_count"] == 0


def test_an_unsupported_database_url_exits_2_naming_flag_and_variable(orders: Invoke) -> None:
    result = orders("--database-url", "mysql://db/orders", "history")

    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: --database-url / ORDERS_DATABASE_URL: 'mysql://db/orders' is not supported"
    )


def test_a_malformed_environment_variable_exits_2_naming_it(orders: Invoke) -> None:
    result = orders("history", env={"ORDERS_DATABASE_POOL_SIZE": "many"})

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: ORDERS_DATABASE_POOL_SIZE: must be a whole number, got 'many'"
    )


def test_market_set_refuses_an_unlisted_symbol_and_a_bad_price(orders: Invoke) -> None:
    unlisted = orders("market", "set", "ZZZZ", "10")
    zero = orders("market", "set", "AAPL", "0", "--json")

    assert unlisted.exit_code == zero.exit_code == 2
    assert "Invalid value for 'SYMBOL': ZZZZ is not listed" in unlisted.stderr
    assert "Error: PRICE: price must be greater than 0, got 0 (NOT_POSITIVE)" in zero.stderr
    assert json.loads(zero.stdout)["error"]["option"] == "PRICE"
    assert as_json(orders("market", "--json"))["assets"][0]["price"] == "189.5"


def test_the_database_url_flag_wins_over_the_environment(orders: Invoke, tmp_path: Path) -> None:
    flagged = tmp_path / "flag.db"
    env = {"ORDERS_DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}"}

    info = as_json(orders("--database-url", f"sqlite:///{flagged}", "info", "--json", env=env))

    assert info["database"] == f"sqlite:///{flagged}"
    assert flagged.exists()
    assert not (tmp_path / "env.db").exists()


def test_a_prices_file_flag_lists_its_prices(orders: Invoke, tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text('{"ACME": "12.5"}')

    listing = as_json(orders("--prices-file", str(prices), "market", "--json"))

    assert [(a["symbol"], a["price"]) for a in listing["assets"]] == [("ACME", "12.5")]


def test_a_broker_url_flag_this_version_cannot_wire_exits_2(orders: Invoke) -> None:
    result = orders("--broker-url", "kafka://guest:secret@broker/", "history")

    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: --broker-url / ORDERS_BROKER_URL: 'kafka://guest:***@broker/' is not a broker URL"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///:memory:", "is not a SQLite file URL"),
        ("postgresql+psycopg2://db/orders", "the 'psycopg2' driver is not supported"),
        ("mysql://db/orders", "is not supported"),
    ],
)
def test_db_upgrade_checks_the_url_as_every_command_does(
    orders: Invoke, url: str, message: str
) -> None:
    result = orders("--database-url", url, "db", "upgrade")

    assert result.exit_code == 2
    assert message in result.stderr


def test_db_upgrade_on_memory_has_nothing_to_do(orders: Invoke) -> None:
    result = orders("--database-url", "memory://", "db", "upgrade")

    assert result.exit_code == 0
    assert result.stdout.strip() == "memory:// keeps nothing: there is no schema to migrate"


def test_debug_shows_the_traceback_instead(orders: Invoke) -> None:
    result = CliRunner().invoke(
        app(), ["--debug", "show", UNKNOWN_ORDER], env={"ORDERS_DATABASE_URL": "memory://"}
    )

    assert result.exit_code == 1
    assert type(result.exception).__name__ == "OrderNotFound"


def test_an_unexpected_error_is_one_line_that_points_at_debug(
    orders: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from order_core.service import OrderService  # noqa: PLC0415

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(OrderService, "get_history", broken)

    result = orders("history")

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Internal error: RuntimeError: disk on fire (run with --debug for the traceback)"
    )


def test_info_never_shows_the_token_secret(orders: Invoke) -> None:
    info = as_json(orders("info", "--json", env={"ORDERS_JWT_SECRET": "s3cret-value"}))

    assert info["settings"]["ORDERS_GRPC_JWT_SECRET"] == "***"
    assert "s3cret-value" not in json.dumps(info)
    assert "s3cret-value" not in orders("info", env={"ORDERS_JWT_SECRET": "s3cret-value"}).stdout
