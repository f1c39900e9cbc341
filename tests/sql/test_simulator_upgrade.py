"""A database whose simulator tables the previous release made (per-order cash
entries, position holds, applied executions; no opening figures) still opens:
the accounts and positions are rebuilt as this release defines them, with
what they held taken as what they were opened with."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
import sqlalchemy as sa

from order_adapters.simulated.sql_ledger import SqlLedger
from order_adapters.simulated.tables import sim_accounts, sim_metadata
from order_adapters.sql import SqlDatabase
from order_core import InsufficientBalance, Symbol
from tests.conftest import ALICE, BOB

D = Decimal
AAPL = Symbol("AAPL")
_Money = sa.Numeric(18, 8).with_variant(sa.BigInteger(), "sqlite")

# The previous release's tables, as it defined them.
_previous = sa.MetaData()
sa.Table(
    "sim_accounts",
    _previous,
    sa.Column("user_id", sa.Uuid(), primary_key=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("cash", _Money, nullable=False),
    sa.Column("reserved", _Money, nullable=False),
)
sa.Table(
    "sim_positions",
    _previous,
    sa.Column("user_id", sa.Uuid(), primary_key=True),
    sa.Column("symbol", sa.String(20), primary_key=True),
    sa.Column("quantity", _Money, nullable=False),
    sa.Column("reserved", _Money, nullable=False),
)
sa.Table(
    "sim_cash_entries",
    _previous,
    sa.Column("order_id", sa.Uuid(), primary_key=True),
    sa.Column("user_id", sa.Uuid(), nullable=False),
    sa.Column("reserved", _Money, nullable=False),
    sa.Column("settled", _Money, nullable=False),
    sa.Column("is_settled", sa.Boolean(), nullable=False),
    sa.Column("is_reversed", sa.Boolean(), nullable=False),
)
sa.Table(
    "sim_position_holds",
    _previous,
    sa.Column("order_id", sa.Uuid(), primary_key=True),
    sa.Column("user_id", sa.Uuid(), nullable=False),
    sa.Column("symbol", sa.String(20), nullable=False),
    sa.Column("quantity", _Money, nullable=False),
)
sa.Table("sim_applied_executions", _previous, sa.Column("order_id", sa.Uuid(), primary_key=True))


def _drop_simulator(connection: sa.Connection) -> None:
    sim_metadata.drop_all(connection)
    _previous.drop_all(connection)


@pytest.fixture
def previous_simulator(sql_database: SqlDatabase) -> Iterator[SqlDatabase]:
    money = sql_database.dialect.money
    tables = _previous.tables
    with sql_database.engine.begin() as connection:
        _drop_simulator(connection)  # PostgreSQL's database is the run's, shared
        _previous.create_all(connection)
        connection.execute(
            tables["sim_accounts"].insert(),
            [
                {
                    "user_id": ALICE,
                    "active": True,
                    "cash": money(D(1000)),
                    "reserved": money(D(150)),
                },
                {"user_id": BOB, "active": False, "cash": money(D(5)), "reserved": money(D(0))},
            ],
        )
        connection.execute(
            tables["sim_positions"].insert(),
            {"user_id": ALICE, "symbol": "AAPL", "quantity": money(D(10)), "reserved": money(D(4))},
        )
        connection.execute(tables["sim_applied_executions"].insert(), {"order_id": uuid4()})
    try:
        yield sql_database
    finally:
        with sql_database.engine.begin() as connection:
            _drop_simulator(connection)


def test_a_simulator_of_the_previous_release_still_opens(previous_simulator: SqlDatabase) -> None:
    database = previous_simulator
    ledger = SqlLedger(database)
    database.attach_ledger(ledger.within)
    books = {book.user_id: book for book in ledger.books()}
    now = datetime.now(UTC)
    assert set(books) == {ALICE, BOB}
    alice = books[ALICE]
    assert now - timedelta(minutes=1) <= alice.opened_at <= now
    assert (alice.opening_cash, alice.cash, alice.reserved) == (D(1000), D(1000), D(150))
    assert alice.positions == {AAPL: (D(10), D(10))}
    assert (books[BOB].opening_cash, books[BOB].positions) == (D(5), {})
    status = ledger.accounts.get_account(BOB)
    assert status is not None and not status.active

    # Money moves in units of work as in a database this release made.
    with database.unit_of_work() as uow:
        uow.orders.lock_user(ALICE)
        uow.ledger.hold(ALICE, uuid4(), D(850))
        uow.ledger.move_position(ALICE, AAPL, D(-4))
        uow.commit()
    with pytest.raises(InsufficientBalance), database.unit_of_work() as uow:
        uow.orders.lock_user(ALICE)
        uow.ledger.hold(ALICE, uuid4(), D("0.01"))
        uow.commit()
    # The table refuses what the guards keep out, too.
    with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as connection:
        connection.execute(sim_accounts.update().values(reserved=sim_accounts.c.cash + 1))

    again = {book.user_id: book for book in SqlLedger(database).books()}  # rebuilt once only
    assert (again[ALICE].opened_at, again[ALICE].opening_cash) == (alice.opened_at, D(1000))
    assert (again[ALICE].cash, again[ALICE].reserved) == (D(1000), D(1000))
    assert again[ALICE].positions == {AAPL: (D(10), D(6))}
    with database.engine.connect() as connection:
        left = sa.inspect(connection)
        assert left.has_table("sim_applied_executions")  # migration 0002 reads it
        assert not left.has_table("sim_accounts_before_rebuild")
