"""Money is exact whatever the caller's decimal context: a host application
that narrowed ``decimal.getcontext()`` for its own sums gets every amount the
service stores and reads back to the last of its 8 places."""

from __future__ import annotations

import decimal
from decimal import Decimal
from pathlib import Path

from order_adapters.bootstrap import bootstrap
from order_adapters.runners import InProcessProcessing
from order_adapters.settings import Settings
from order_adapters.simulated.demo import DEMO_CASH, DEMO_USER
from order_adapters.sql.dialects import SqliteDialect
from order_core import OrderStatus, SubmitOrder

PRICE = Decimal("99775.12345678")


def test_the_sqlite_columns_hold_every_digit_under_a_narrow_context() -> None:
    dialect = SqliteDialect()
    with decimal.localcontext(decimal.Context(prec=8)):
        stored = dialect.money(PRICE)
        assert stored == 9977512345678
        assert dialect.money_from(stored) == PRICE


def test_an_order_executes_to_the_last_place_under_a_narrow_context(tmp_path: Path) -> None:
    with decimal.localcontext(decimal.Context(prec=8)):
        runtime = bootstrap(Settings.of(data_dir=tmp_path))
        try:
            runtime.market.set_price("AAPL", str(PRICE))
            receipt = runtime.service.submit(SubmitOrder(DEMO_USER, "AAPL", "MARKET", "BUY", "1"))
            InProcessProcessing.of(runtime).pump()
            details = runtime.service.get_details(receipt.order_id, DEMO_USER)
            balance = runtime.ledger.balances.get_balance(DEMO_USER)
        finally:
            runtime.close()

    assert receipt.estimated_value == PRICE
    assert details.status is OrderStatus.EXECUTED
    assert (details.execution_price, details.execution_value) == (PRICE, PRICE)
    assert balance.cash == Decimal(DEMO_CASH) - PRICE  # 224.87654322, not 224.877
