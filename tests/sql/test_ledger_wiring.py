"""How a SQL unit of work gets its ledger: attached once, at wiring."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest

from order_adapters.simulated.sql_ledger import SqlLedger
from order_adapters.sql import SqlDatabase
from tests.conftest import ALICE


def test_a_unit_of_work_without_an_attached_ledger_says_how_to_attach_one(
    sql_database: SqlDatabase,
) -> None:
    with sql_database.unit_of_work() as uow:
        assert uow.orders.count_by_user(ALICE) == 0  # the rest works without one
        with pytest.raises(RuntimeError, match="attach_ledger"):
            _ = uow.ledger


def test_the_ledger_works_on_the_unit_s_own_connection(sql_database: SqlDatabase) -> None:
    ledger = SqlLedger(sql_database)
    sql_database.attach_ledger(ledger.within)
    ledger.open_account(ALICE, cash="10")
    with sql_database.unit_of_work() as uow:
        uow.orders.lock_user(ALICE)
        assert uow.ledger.cash(ALICE).cash == 10
        uow.ledger.settle(ALICE, uuid4(), paid=Decimal(-4), held=Decimal(0))
        uow.commit()
    assert ledger.balances.get_balance(ALICE).cash == 6


def test_a_ledger_kept_in_another_kind_of_database_is_refused(
    sql_database: SqlDatabase, tmp_path: Path
) -> None:
    other = SqlDatabase.from_url(
        f"sqlite:///{tmp_path / 'other.db'}"
        if sql_database.dialect.name == "postgresql"
        else "postgresql+psycopg://postgres@127.0.0.1:1/none"
    )
    try:
        sql_database.attach_ledger(SqlLedger(other).within)
        with sql_database.unit_of_work() as uow, pytest.raises(ValueError, match="ledger"):
            _ = uow.ledger
    finally:
        other.dispose()
