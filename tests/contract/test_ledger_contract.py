"""The ledger's contract inside a unit of work (``order_core.ports.Ledger``) and
the simulated ledger's controls: what the order service relies on from every
implementation (in memory, SQLite, PostgreSQL).

Money moves in the unit's own transaction: a movement is seen by the unit at
once, by everyone else when the unit commits, and by no one if it does not.
Every unit here locks the user first, as the use cases do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from order_core import ConcurrencyConflict, InsufficientBalance, Order, OrderStatus, Symbol
from order_core.ports import Ledger
from order_core.records import AccountBook
from tests.backends.store import LedgerStore
from tests.contract.factories import USER_A, USER_B, make_order, new_id

D = Decimal
AAPL = Symbol("AAPL")
MSFT = Symbol("MSFT")


@pytest.fixture
def funded(ledger: LedgerStore) -> LedgerStore:
    ledger.controls.open_account(USER_A, cash="1000", positions={"AAPL": "10"})
    return ledger


def move(store: LedgerStore, change: Callable[[Ledger], object], user: UUID = USER_A) -> None:
    """One committed unit of work making ``change``."""
    with store.unit_of_work() as uow:
        uow.orders.lock_user(user)
        change(uow.ledger)
        uow.commit()


def committed(store: LedgerStore, user: UUID = USER_A) -> tuple[Decimal, Decimal]:
    """(cash, reserved) as committed, read by a unit of work under the lock."""
    with store.unit_of_work() as uow:
        uow.orders.lock_user(user)
        balance = uow.ledger.cash(user)
    return balance.cash, balance.reserved


def shown(store: LedgerStore, user: UUID = USER_A) -> tuple[Decimal, Decimal]:
    """(cash, reserved) as the read port shows them (outside any unit)."""
    balance = store.controls.balances.get_balance(user)
    return balance.cash, balance.reserved


def test_accounts(funded: LedgerStore) -> None:
    accounts = funded.controls.accounts
    status = accounts.get_account(USER_A)
    assert status is not None and status.active
    assert accounts.can_trade(USER_A, AAPL)
    assert accounts.get_account(USER_B) is None
    assert not accounts.can_trade(USER_B, AAPL)
    assert funded.controls.has_account(USER_A) and not funded.controls.has_account(USER_B)
    assert accounts.trading_status(USER_A, AAPL) == (status, True)
    assert accounts.trading_status(USER_B, AAPL) == (None, False)
    funded.controls.set_active(USER_A, False)
    assert not accounts.can_trade(USER_A, AAPL)
    inactive, may_trade = accounts.trading_status(USER_A, AAPL)
    assert inactive is not None and not inactive.active and not may_trade


def test_hold_settle_and_release_move_exactly_their_amounts(funded: LedgerStore) -> None:
    bought, cancelled, sold = new_id(), new_id(), new_id()
    move(funded, lambda ledger: ledger.hold(USER_A, bought, D("600")))
    assert committed(funded) == shown(funded) == (D("1000"), D("600"))
    # The price moved up a little: the BUY pays more than it held.
    move(funded, lambda ledger: ledger.settle(USER_A, bought, paid=D("-610.5"), held=D("600")))
    assert committed(funded) == (D("389.5"), D("0"))
    move(funded, lambda ledger: ledger.hold(USER_A, cancelled, D("100.00000001")))
    assert committed(funded) == (D("389.5"), D("100.00000001"))
    move(funded, lambda ledger: ledger.release(USER_A, cancelled, D("100.00000001")))
    assert committed(funded) == (D("389.5"), D("0"))
    move(funded, lambda ledger: ledger.settle(USER_A, sold, paid=D("250"), held=D("0")))
    assert committed(funded) == shown(funded) == (D("639.5"), D("0"))


def test_a_unit_sees_its_own_movements_and_others_see_them_at_commit(
    funded: LedgerStore,
) -> None:
    with funded.unit_of_work() as uow:
        uow.orders.lock_user(USER_A)
        uow.ledger.hold(USER_A, new_id(), D("300"))
        uow.ledger.move_position(USER_A, AAPL, D("2"))
        assert uow.ledger.cash(USER_A).reserved == D("300")
        assert uow.ledger.cash(USER_A).available == D("700")
        assert uow.ledger.position(USER_A, AAPL) == D("12")
        assert shown(funded) == (D("1000"), D("0"))  # not committed yet
        assert funded.controls.positions.get_position(USER_A, AAPL).quantity == D("10")
        uow.commit()
    assert shown(funded) == (D("1000"), D("300"))
    assert funded.controls.positions.get_position(USER_A, AAPL).quantity == D("12")


def test_a_hold_beyond_what_is_available_is_refused_and_writes_nothing(
    funded: LedgerStore,
) -> None:
    move(funded, lambda ledger: ledger.hold(USER_A, new_id(), D("500")))
    order = make_order()
    with pytest.raises(InsufficientBalance) as caught, funded.unit_of_work() as uow:
        uow.orders.lock_user(USER_A)
        uow.orders.add(order)
        uow.ledger.hold(USER_A, order.id, D("500.01"))  # refused here or at commit
        uow.commit()
    assert caught.value.to_dict()["limit"] == "500"
    assert caught.value.to_dict()["value"] == "500.01"
    assert committed(funded) == (D("1000"), D("500"))
    with funded.unit_of_work() as uow:
        assert uow.orders.get(order.id) is None  # the order went with it
    with pytest.raises(InsufficientBalance) as caught, funded.unit_of_work() as uow:
        uow.orders.lock_user(USER_A)
        assert uow.ledger.cash(USER_A).available == D("500")  # read first, as submit does
        uow.orders.add(order)
        uow.ledger.hold(USER_A, order.id, D("300"))
        uow.ledger.hold(USER_A, order.id, D("200.01"))  # 0.01 more than is left
        uow.commit()
    assert caught.value.to_dict()["limit"] == "200"  # what the unit left available
    assert committed(funded) == (D("1000"), D("500"))
    move(funded, lambda ledger: ledger.hold(USER_A, new_id(), D("500")))  # exactly all is fine
    assert committed(funded) == (D("1000"), D("1000"))


def test_a_settlement_beyond_cash_and_its_own_hold_is_refused(funded: LedgerStore) -> None:
    order, other = new_id(), new_id()
    move(funded, lambda ledger: ledger.hold(USER_A, order, D("500")))
    move(funded, lambda ledger: ledger.hold(USER_A, other, D("400")))
    with pytest.raises(InsufficientBalance) as caught:
        move(funded, lambda ledger: ledger.settle(USER_A, order, paid=D("-600.01"), held=D("500")))
    assert caught.value.to_dict()["limit"] == "600"  # 1000 - 900 held + its own 500
    assert committed(funded) == (D("1000"), D("900"))
    move(funded, lambda ledger: ledger.settle(USER_A, order, paid=D("-600"), held=D("500")))
    assert committed(funded) == (D("400"), D("400"))


def test_everything_rolls_back_with_the_unit(funded: LedgerStore) -> None:
    order = make_order()
    with funded.unit_of_work() as uow:
        uow.orders.lock_user(USER_A)
        uow.orders.add(order)
        uow.ledger.hold(USER_A, order.id, D("100"))
        uow.ledger.settle(USER_A, new_id(), paid=D("-50"), held=D("0"))
        uow.ledger.move_position(USER_A, AAPL, D("5"))
        assert uow.ledger.cash(USER_A) == (USER_A, D("950"), D("100"))
        uow.rollback()
        # The next transaction of the same unit starts from what is committed.
        uow.orders.lock_user(USER_A)
        assert uow.ledger.cash(USER_A) == (USER_A, D("1000"), D("0"))
        assert uow.ledger.position(USER_A, AAPL) == D("10")
        uow.ledger.hold(USER_A, new_id(), D("1"))
        uow.commit()
    with funded.unit_of_work() as uow:  # left without a commit
        uow.orders.lock_user(USER_A)
        uow.ledger.release(USER_A, new_id(), D("1"))
        uow.ledger.move_position(USER_A, AAPL, D("-10"))
    assert committed(funded) == (D("1000"), D("1"))
    assert funded.controls.positions.get_position(USER_A, AAPL).quantity == D("10")
    with funded.unit_of_work() as uow:
        assert uow.orders.get(order.id) is None


def test_positions_move_as_applied(funded: LedgerStore) -> None:
    move(funded, lambda ledger: ledger.move_position(USER_A, AAPL, D("2.5")))
    move(funded, lambda ledger: ledger.move_position(USER_A, AAPL, D("-4")))
    move(funded, lambda ledger: ledger.move_position(USER_A, MSFT, D("0.00000001")))
    positions = funded.controls.positions
    assert positions.get_position(USER_A, AAPL).quantity == D("8.5")
    assert funded.controls.holdings(USER_A) == {AAPL: D("8.5"), MSFT: D("0.00000001")}
    move(funded, lambda ledger: ledger.move_position(USER_A, MSFT, D("-0.00000001")))
    assert funded.controls.holdings(USER_A) == {AAPL: D("8.5")}  # nothing held is left out


def test_an_unknown_user_has_nothing_and_can_hold_nothing(ledger: LedgerStore) -> None:
    assert committed(ledger, USER_B) == (0, 0)
    assert shown(ledger, USER_B) == (0, 0)
    with ledger.unit_of_work() as uow:
        uow.orders.lock_user(USER_B)
        assert uow.ledger.position(USER_B, AAPL) == 0
    assert ledger.controls.positions.get_position(USER_B, AAPL).quantity == 0
    with pytest.raises(InsufficientBalance):
        move(ledger, lambda ledger: ledger.hold(USER_B, new_id(), D("1")), USER_B)


def test_books_show_each_account_as_opened_and_as_it_is(funded: LedgerStore) -> None:
    before = datetime.now(UTC) - timedelta(minutes=1)
    funded.controls.open_account(USER_B, cash="5.5", positions={"MSFT": "2"})
    books = {book.user_id: book for book in funded.controls.books()}
    assert set(books) == {USER_A, USER_B}
    assert all(isinstance(book, AccountBook) for book in books.values())
    opened = books[USER_A].opened_at
    assert opened.tzinfo is not None and before <= opened <= datetime.now(UTC)
    assert books[USER_A]._replace(opened_at=before) == AccountBook(
        USER_A, before, D("1000"), D("1000"), D("0"), {AAPL: (D("10"), D("10"))}
    )
    assert books[USER_B].positions == {MSFT: (D("2"), D("2"))}

    order = new_id()
    move(funded, lambda ledger: ledger.hold(USER_A, order, D("100")))
    move(funded, lambda ledger: ledger.settle(USER_A, order, paid=D("-90"), held=D("100")))
    move(funded, lambda ledger: ledger.hold(USER_A, new_id(), D("7")))
    move(funded, lambda ledger: ledger.move_position(USER_A, AAPL, D("1")))
    move(funded, lambda ledger: ledger.move_position(USER_A, MSFT, D("3")))
    book = next(book for book in funded.controls.books() if book.user_id == USER_A)
    assert (book.opened_at, book.opening_cash, book.cash, book.reserved) == (
        opened,
        D("1000"),
        D("910"),
        D("7"),
    )
    assert book.positions == {AAPL: (D("10"), D("11")), MSFT: (D("0"), D("3"))}


@pytest.mark.parametrize("loser", ["execute", "cancel"])
def test_the_loser_of_a_race_for_its_order_moves_nothing(funded: LedgerStore, loser: str) -> None:
    """Both writers read the order before either locks the user; the winner's
    movement consumes the hold, and the loser is told it lost the race (not
    that money is short), whichever of its writes the store checks first."""
    order = make_order(status=OrderStatus.PROCESSING, quantity="1", price="100")
    with funded.unit_of_work() as uow:
        uow.orders.lock_user(USER_A)
        uow.orders.add(order)
        uow.ledger.hold(USER_A, order.id, order.cash_held)
        uow.commit()
    now = order.updated_at + timedelta(seconds=1)

    def execute(ledger: Ledger, mine: Order) -> None:
        ledger.settle(USER_A, mine.id, paid=D("-99"), held=mine.cash_held)
        mine.execute(now)

    def cancel(ledger: Ledger, mine: Order) -> None:
        mine.cancel(now)
        ledger.release(USER_A, mine.id, mine.cash_held)

    moves = {"execute": execute, "cancel": cancel}
    winner = "cancel" if loser == "execute" else "execute"
    with funded.unit_of_work() as late:
        stale = late.orders.get(order.id)  # read before the winner writes
        assert stale is not None
        with funded.unit_of_work() as first:
            mine = first.orders.get(order.id)
            assert mine is not None
            first.orders.lock_user(USER_A)
            moves[winner](first.ledger, mine)
            first.orders.update(mine)
            first.commit()
        after = committed(funded)
        with pytest.raises(ConcurrencyConflict):
            late.orders.lock_user(USER_A)
            moves[loser](late.ledger, stale)
            late.orders.update(stale)
            late.commit()
    assert (
        committed(funded)
        == after
        == ((D("901"), D("0")) if winner == "execute" else (D("1000"), D("0")))
    )
