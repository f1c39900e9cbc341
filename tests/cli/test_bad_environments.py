"""A bad environment or malformed input ends with one sentence naming the
setting, file or option, and the documented exit code: 2 for a setting or
usage to fix, 3 for a dependency that is down. Never "Internal error", never
a traceback."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from order_cli.main import app
from tests.cli.test_installed_command import runner
from tests.services import REDIS_URL, need

Invoke = Callable[..., Result]

ARABIC_TEN = "\u0661\u0660"  # Arabic-Indic digits: int() and Decimal() read 10


@pytest.fixture
def orders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``orders ARGS`` with a data directory of this test's own; the
    environment's ``ORDERS_*`` variables are the test's, not the machine's."""
    for variable in [name for name in os.environ if name.startswith("ORDERS_")]:
        monkeypatch.delenv(variable)
    cli = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        environment = {"ORDERS_DATA_DIR": str(tmp_path / "data"), **(env or {})}
        result = cli.invoke(app(), list(args), env=environment)
        # Anything but an exit means an exception escaped the command: a traceback.
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result

    return invoke


def refused(result: Result, code: int = 2) -> str:
    """The one line on stderr of a command that exited with ``code``."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Internal error" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.strip()


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` made read-only for this process, for the block. Root writes a
    file whatever its mode: for root the file is made immutable (``chattr +i``)."""
    mode = path.stat().st_mode
    immutable = os.geteuid() == 0
    if immutable:
        chattr = shutil.which("chattr")
        done = chattr and subprocess.run([chattr, "+i", str(path)], check=False).returncode == 0
        if not done:
            pytest.skip("running as root, and chattr +i cannot make a file read-only here")
    else:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


def created(orders: Invoke, tmp_path: Path) -> Path:
    """The data directory's database file, made by a first command."""
    assert orders("history").exit_code == 0
    return tmp_path / "data" / "orders.db"


# -- the database file --------------------------------------------------------------


def test_a_read_only_database_file_exits_2_naming_it_and_the_data_dir(
    orders: Invoke, tmp_path: Path
) -> None:
    database = created(orders, tmp_path)

    with read_only(database):
        sentence = refused(orders("submit", "--symbol", "AAPL", "--side", "buy", "--quantity", "1"))

    assert sentence == (
        f"Error: --data-dir / ORDERS_DATA_DIR: the database file {database} is read-only: "
        "make it writable, or point the data directory elsewhere"
    )


def test_a_read_only_database_url_file_exits_2_naming_the_url(
    orders: Invoke, tmp_path: Path
) -> None:
    database = created(orders, tmp_path)

    with read_only(database):
        result = orders("--database-url", f"sqlite:///{database}", "history", "--json")

    assert refused(result).startswith(
        f"Error: --database-url / ORDERS_DATABASE_URL: the database file {database} is read-only"
    )
    assert json.loads(result.stdout)["error"]["code"] == "INVALID_SETTINGS"


def test_a_read_only_data_folder_exits_2(orders: Invoke, tmp_path: Path) -> None:
    created(orders, tmp_path)

    with read_only(tmp_path / "data"):
        sentence = refused(orders("history"))

    assert sentence.startswith(
        f"Error: --data-dir / ORDERS_DATA_DIR: the folder {tmp_path / 'data'} of the database "
        "file is read-only"
    )


@pytest.mark.parametrize(
    "content",
    [b"not a database\n", bytes(range(256)) * 40, b"\0" * 4096],
    ids=["text", "bytes", "zeros"],
)
def test_a_file_that_is_not_a_database_exits_2_naming_it(
    orders: Invoke, tmp_path: Path, content: bytes
) -> None:
    database = tmp_path / "data" / "orders.db"
    database.parent.mkdir()
    database.write_bytes(content)

    sentence = refused(orders("account"))

    assert sentence == (
        f"Error: --data-dir / ORDERS_DATA_DIR: {database} is not a SQLite database (file is "
        "not a database): move it aside, or point the data directory elsewhere"
    )
    assert database.read_bytes() == content  # looked at, not changed


def test_a_database_url_naming_something_else_exits_2(orders: Invoke, tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("shopping list\n" * 100)

    sentence = refused(orders("--database-url", f"sqlite:///{other}", "db", "upgrade"))

    assert sentence.startswith(
        f"Error: --database-url / ORDERS_DATABASE_URL: {other} is not a SQLite database"
    )


def test_a_folder_at_the_database_path_exits_2(orders: Invoke, tmp_path: Path) -> None:
    (tmp_path / "data" / "orders.db").mkdir(parents=True)

    sentence = refused(orders("history"))

    assert sentence == (
        f"Error: --data-dir / ORDERS_DATA_DIR: {tmp_path / 'data' / 'orders.db'} is a folder, "
        "not a database file: point the data directory elsewhere"
    )


@pytest.mark.parametrize("below", ["", "sub/folder"])
def test_a_data_dir_that_is_a_file_exits_2_naming_it(
    orders: Invoke, tmp_path: Path, below: str
) -> None:
    file = tmp_path / "a-file"
    file.write_text("")
    data_dir = file / below if below else file

    sentence = refused(orders("history", env={"ORDERS_DATA_DIR": str(data_dir)}))

    where = f" ({file} is a file)" if below else ""
    assert sentence == (
        f"Error: --data-dir / ORDERS_DATA_DIR: {data_dir} is not a folder{where}: point it at "
        "a folder (it is created if missing)"
    )


# -- URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u@localhost:abc/db", "the port must be a number from 1 to 65535: use"),
        ("postgresql://u@localhost:99999/db", "the port must be a number from 1 to 65535, not"),
        ("postgresql+psycopg://u@[::1/db", "the port must be a number from 1 to 65535"),
    ],
)
def test_a_database_url_with_a_bad_port_exits_2(orders: Invoke, url: str, message: str) -> None:
    sentence = refused(orders("--database-url", url, "history"))

    assert sentence.startswith(
        f"Error: --database-url / ORDERS_DATABASE_URL: {url!r} is not a database URL: {message}"
    )


@pytest.mark.parametrize("database", ["abc", "-1", "1/2"])
def test_a_redis_url_whose_database_is_not_a_number_exits_2(orders: Invoke, database: str) -> None:
    url = f"redis://127.0.0.1:6379/{database}"

    sentence = refused(orders("--redis-url", url, "history"))

    assert sentence.startswith(
        f"Error: --redis-url / ORDERS_REDIS_URL: {url!r} is not a Redis URL: the database must "
        "be a number"
    )


def test_a_redis_database_the_server_lacks_exits_2_and_submits_nothing(orders: Invoke) -> None:
    need("Redis")
    url = REDIS_URL.rsplit("/", 1)[0] + "/99"

    result = orders("--redis-url", url, "submit", "--symbol", "AAPL", "--side", "buy",
                    "--quantity", "1")  # fmt: skip

    assert refused(result) == (
        f"Error: --redis-url / ORDERS_REDIS_URL: Redis at {url} refused the connection (DB "
        "index is out of range): use a database the server has (0 to 15 on a default server)"
    )
    history = orders("history", "--json")
    assert json.loads(history.stdout)["total_count"] == 0


def test_redis_refusing_the_credentials_exits_2(orders: Invoke) -> None:
    need("Redis")
    url = REDIS_URL.replace("redis://", "redis://nobody-here:wrong@", 1)

    sentence = refused(orders("--redis-url", url, "history"))

    assert sentence.startswith("Error: --redis-url / ORDERS_REDIS_URL: Redis at redis://nobody")
    assert "refused the credentials" in sentence
    assert "wrong" not in sentence  # the password is not shown


# -- options ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--offset", "99999999999999999999999"), "is not in the range 0<=x<=9223372036854775807"),
        (("--offset", "-1"), "is not in the range"),
        (("--offset", ARABIC_TEN), "is not a valid integer"),
        (("--limit", "1_0"), "is not a valid integer"),
    ],
)
def test_history_paging_out_of_range_exits_2_naming_the_option(
    orders: Invoke, args: tuple[str, str], message: str
) -> None:
    result = orders("history", *args)

    assert result.exit_code == 2
    assert f"Invalid value for '{args[0]}'" in result.stderr
    assert message in result.stderr


def test_the_largest_offset_is_an_empty_page(orders: Invoke) -> None:
    result = orders("history", "--offset", "9223372036854775807", "--json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["orders"] == []


@pytest.mark.parametrize(
    ("args", "option", "message"),
    [
        (("--quantity", ARABIC_TEN), "--quantity", f"got {ARABIC_TEN!r} (NOT_A_NUMBER)"),
        (("--quantity", "1_000"), "--quantity", "got '1_000' (NOT_A_NUMBER)"),
        (("--quantity", "1", "--price", "1_8_9"), "--price", "got '1_8_9' (NOT_A_NUMBER)"),
        (("--symbol", "\ufb01"), "--symbol", "(INVALID_SYMBOL)"),  # "fi".upper() is "FI"
        (("--side", "\u017fell"), "--side", "is not one of 'buy', 'sell'"),  # long s
        (("--type", "mar\u212aet"), "--type", "is not one of"),  # the Kelvin sign
    ],
)
def test_input_is_ascii_only(
    orders: Invoke, args: tuple[str, ...], option: str, message: str
) -> None:
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = {"--symbol": "AAPL", "--side": "buy", "--quantity": "1", "--type": "limit",
            "--price": "189.5", **given}  # fmt: skip

    result = orders("submit", *(item for pair in argv.items() for item in pair))

    assert result.exit_code == 2, result.output
    assert option in result.stderr
    assert message in result.stderr
    assert json.loads(orders("history", "--json").stdout)["total_count"] == 0


def test_market_set_takes_an_ascii_symbol_only(orders: Invoke) -> None:
    result = orders("market", "set", "\ufb01", "10")

    assert refused(result).startswith("Error: SYMBOL: symbol must be 1-20 characters")


# -- the installed command ----------------------------------------------------------


def test_the_installed_command_names_the_file_and_shows_no_traceback(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "orders.db").write_text("not a database")
    a_file = tmp_path / "a-file"
    a_file.write_text("")

    corrupt = runner(data)("history", expect=2)
    not_a_folder = runner(a_file)("history", expect=2)
    bad_port = runner(data, "--database-url", "postgresql://u@localhost:abc/db")(
        "history", expect=2
    )

    assert corrupt.stderr.startswith("Error: --data-dir / ORDERS_DATA_DIR: ")
    assert "is not a SQLite database" in corrupt.stderr
    assert f"{a_file} is not a folder" in not_a_folder.stderr
    assert "the port must be a number" in bad_port.stderr
