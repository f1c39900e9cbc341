"""The order repository's contract (docs/contracts.md), for every backend."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from order_core import ConcurrencyConflict, Order, OrderSide, OrderStatus, OrderType, Symbol
from order_core.records import Quote
from tests.backends.store import Store
from tests.contract.factories import T0, USER_A, USER_B, make_order, new_id

D = Decimal


def save(store: Store, *orders: object) -> None:
    with store.unit_of_work() as uow:
        for order in orders:
            uow.orders.add(order)  # type: ignore[arg-type]
        uow.commit()


def test_an_order_round_trips_exactly(store: Store) -> None:
    order = make_order(order_type=OrderType.STOP_LIMIT, stop_price="123456789.12345677")
    order.triggered_at = T0 + timedelta(microseconds=123)
    order.failure_reason = None
    save(store, order)
    with store.unit_of_work() as uow:
        loaded = uow.orders.get(order.id)
    assert loaded == order
    assert loaded is not order
    assert loaded.quantity.value == D("0.12345678")
    assert loaded.price is not None and loaded.price.value == D("123456789.12345678")
    assert loaded.market_price_at_submission == D("9999999999.99999999")
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert loaded.version == 1


def test_a_missing_order_is_none(store: Store) -> None:
    with store.unit_of_work() as uow:
        assert uow.orders.get(new_id()) is None


def test_an_executed_order_round_trips(store: Store) -> None:
    order = make_order(order_type=OrderType.MARKET, price=None)
    save(store, order)
    with store.unit_of_work() as uow:
        loaded = uow.orders.get(order.id)
        assert loaded is not None
        loaded.start_processing(
            Quote(loaded.symbol, D("150.00000001"), T0), T0 + timedelta(seconds=1)
        )
        uow.orders.update(loaded)
        loaded.execute(T0 + timedelta(seconds=2))
        uow.orders.update(loaded)
        uow.commit()
    with store.unit_of_work() as uow:
        again = uow.orders.get(order.id)
    assert again == loaded
    assert again is not None
    assert again.status is OrderStatus.EXECUTED and again.version == 3
    assert again.execution_price == D("150.00000001")


def test_nothing_is_visible_before_commit_and_a_rollback_discards(store: Store) -> None:
    order = make_order()
    with store.unit_of_work() as writer:
        writer.orders.add(order)
        assert writer.orders.get(order.id) is not None  # it sees its own write
        with store.unit_of_work() as reader:
            assert reader.orders.get(order.id) is None
        writer.rollback()
    with store.unit_of_work() as uow:
        assert uow.orders.get(order.id) is None
    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        uow.orders.add(order)
        raise RuntimeError("boom")
    with store.unit_of_work() as uow:
        assert uow.orders.get(order.id) is None


def test_updates_are_versioned_and_exactly_one_racer_wins(store: Store) -> None:
    order = make_order()
    save(store, order)
    with store.unit_of_work() as first, store.unit_of_work() as second:
        mine = first.orders.get(order.id)
        theirs = second.orders.get(order.id)
        assert mine is not None and theirs is not None
        mine.cancel(T0)
        first.orders.update(mine)
        first.commit()
        theirs.start_processing(Quote(theirs.symbol, D(1), T0), T0)
        with pytest.raises(ConcurrencyConflict) as caught:
            second.orders.update(theirs)
            second.commit()
        assert caught.value.code == "CONCURRENT_MODIFICATION"
    with store.unit_of_work() as uow:
        final = uow.orders.get(order.id)
    assert final is not None
    assert (final.status, final.version) == (OrderStatus.CANCELLED, 2)


def test_a_stale_update_writes_nothing(store: Store) -> None:
    order = make_order()
    save(store, order)
    order.version = 7
    order.fail("stale", T0)
    with store.unit_of_work() as uow, pytest.raises(ConcurrencyConflict):
        uow.orders.update(order)
        uow.commit()
    with store.unit_of_work() as uow:
        current = uow.orders.get(order.id)
    assert current is not None and current.status is OrderStatus.PENDING


def test_adding_an_existing_id_fails(store: Store) -> None:
    order = make_order()
    save(store, order)
    with store.unit_of_work() as uow, pytest.raises(ConcurrencyConflict):
        uow.orders.add(make_order())  # a different order...
        uow.orders.add(order)  # ...and one that exists
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.orders.count_by_user(USER_A) == 1


@pytest.fixture
def book(store: Store) -> dict[str, object]:
    """Orders of two users over three days, statuses and symbols mixed."""
    orders = {
        "a1": make_order(at=T0, symbol="AAPL"),
        "a2": make_order(at=T0 + timedelta(hours=1), symbol="MSFT", status=OrderStatus.EXECUTED),
        "a3": make_order(at=T0 + timedelta(days=1), symbol="AAPL", side=OrderSide.SELL),
        "a4": make_order(
            at=T0 + timedelta(days=2), symbol="AAPL", status=OrderStatus.PROCESSING, quantity="2"
        ),
        "a5": make_order(at=T0 + timedelta(days=2), symbol="AAPL", status=OrderStatus.CANCELLED),
        "b1": make_order(user=USER_B, at=T0 + timedelta(minutes=30), symbol="AAPL"),
    }
    save(store, *orders.values())
    return {"store": store, **orders}


def ids(orders: object) -> list[object]:
    return [order.id for order in orders]  # type: ignore[attr-defined]


def test_find_by_user_newest_first_with_status_filter(book: dict[str, object]) -> None:
    store = book["store"]
    with store.unit_of_work() as uow:  # type: ignore[attr-defined]
        mine = uow.orders.list_by_user(USER_A)
        pending = uow.orders.list_by_user(USER_A, OrderStatus.PENDING)
    same_instant = sorted([book["a4"].id, book["a5"].id], reverse=True)  # type: ignore[attr-defined]
    # Newest first; a4 and a5 share an instant, so the larger id comes first.
    assert ids(mine) == [*same_instant, *(book[k].id for k in ("a3", "a2", "a1"))]  # type: ignore[attr-defined]
    assert ids(pending) == [book["a3"].id, book["a1"].id]  # type: ignore[attr-defined]


def test_find_by_status_oldest_first_with_symbols_and_limit(book: dict[str, object]) -> None:
    store = book["store"]
    with store.unit_of_work() as uow:  # type: ignore[attr-defined]
        pending = uow.orders.list_by_status(OrderStatus.PENDING)
        aapl_first = uow.orders.list_by_status(
            OrderStatus.PENDING, symbols=[Symbol("AAPL")], limit=2
        )
        msft = uow.orders.list_by_status(OrderStatus.PENDING, symbols=[Symbol("MSFT")])
    assert ids(pending) == [book["a1"].id, book["b1"].id, book["a3"].id]  # type: ignore[attr-defined]
    assert ids(aapl_first) == [book["a1"].id, book["b1"].id]  # type: ignore[attr-defined]
    assert msft == []


def test_history_pages_counts_and_filters(book: dict[str, object]) -> None:
    store = book["store"]
    with store.unit_of_work() as uow:  # type: ignore[attr-defined]
        everything = uow.orders.history(USER_A, limit=100, offset=0)
        page = uow.orders.history(USER_A, limit=2, offset=1)
        executed = uow.orders.history(USER_A, limit=10, offset=0, status=OrderStatus.EXECUTED)
        beyond = uow.orders.history(USER_A, limit=10, offset=10)
    assert everything.total_count == 5 and len(everything.orders) == 5
    assert ids(page.orders) == ids(everything.orders)[1:3]
    assert page.total_count == 5
    assert ids(executed.orders) == [book["a2"].id] and executed.total_count == 1  # type: ignore[attr-defined]
    assert list(beyond.orders) == []
    assert beyond.total_count == 5


def test_history_breaks_ties_by_id_so_pages_never_overlap(store: Store) -> None:
    same_instant = [make_order(at=T0) for _ in range(6)]
    save(store, *same_instant)
    with store.unit_of_work() as uow:
        pages = [uow.orders.history(USER_A, limit=2, offset=n).orders for n in (0, 2, 4)]
    seen = [order.id for page in pages for order in page]
    assert seen == sorted((o.id for o in same_instant), reverse=True)


def test_find_by_symbol(book: dict[str, object]) -> None:
    store = book["store"]
    with store.unit_of_work() as uow:  # type: ignore[attr-defined]
        aapl = uow.orders.list_by_symbol(Symbol("AAPL"))
        aapl_pending = uow.orders.list_by_symbol(Symbol("AAPL"), OrderStatus.PENDING)
    assert len(aapl) == 5
    assert set(ids(aapl_pending)) == {book[k].id for k in ("a1", "a3", "b1")}  # type: ignore[attr-defined]


def test_find_by_date_range_is_half_open(book: dict[str, object]) -> None:
    store = book["store"]
    with store.unit_of_work() as uow:  # type: ignore[attr-defined]
        first_day = uow.orders.list_by_date_range(USER_A, T0, T0 + timedelta(days=1))
        second_day = uow.orders.list_by_date_range(
            USER_A, T0 + timedelta(days=1), T0 + timedelta(days=2)
        )
    assert ids(first_day) == [book["a2"].id, book["a1"].id]  # type: ignore[attr-defined]
    assert ids(second_day) == [book["a3"].id]  # type: ignore[attr-defined]


def test_count_by_user(book: dict[str, object]) -> None:
    store = book["store"]
    with store.unit_of_work() as uow:  # type: ignore[attr-defined]
        assert uow.orders.count_by_user(USER_A) == 5
        assert uow.orders.count_by_user(USER_A, since=T0 + timedelta(hours=1)) == 4
        assert uow.orders.count_by_user(USER_B) == 1
        assert uow.orders.count_by_user(new_id()) == 0


def test_open_quantity_sums_pending_and_processing(book: dict[str, object]) -> None:
    store = book["store"]
    with store.unit_of_work() as uow:  # type: ignore[attr-defined]
        buys = uow.orders.open_quantity(USER_A, Symbol("AAPL"), OrderSide.BUY)
        sells = uow.orders.open_quantity(USER_A, Symbol("AAPL"), OrderSide.SELL)
        none = uow.orders.open_quantity(USER_A, Symbol("MSFT"), OrderSide.BUY)
    assert buys == D("2.12345678")  # a1 pending + a4 processing; a5 cancelled is not open
    assert sells == D("0.12345678")
    assert none == 0


def test_open_quantity_follows_status_changes(book: dict[str, object]) -> None:
    store = book["store"]
    with store.unit_of_work() as uow:  # type: ignore[attr-defined]
        order = uow.orders.get(book["a4"].id)  # type: ignore[attr-defined]
        order.execute(T0)
        uow.orders.update(order)
        uow.commit()
    with store.unit_of_work() as uow:  # type: ignore[attr-defined]
        assert uow.orders.open_quantity(USER_A, Symbol("AAPL"), OrderSide.BUY) == D("0.12345678")


def executed(
    *, side: OrderSide, quantity: str, at: datetime, applied: datetime | None = None
) -> Order:
    """USER_A's EXECUTED AAPL order, its position update applied at ``applied``."""
    order = make_order(side=side, quantity=quantity, at=at, status=OrderStatus.EXECUTED)
    order.executed_at = at
    order.position_applied_at = applied
    return order


def test_activity_counts_open_and_unapplied_executed_quantities(
    book: dict[str, object],
) -> None:
    store: Store = book["store"]  # type: ignore[assignment]
    bought = executed(side=OrderSide.BUY, quantity="3", at=T0 + timedelta(days=3))
    sold = executed(side=OrderSide.SELL, quantity="1.5", at=T0 + timedelta(days=3))
    applied = executed(side=OrderSide.SELL, quantity="100", at=T0, applied=T0)
    save(store, bought, sold, applied)
    since = T0 + timedelta(hours=1)
    with store.unit_of_work() as uow:
        activity = uow.orders.activity(USER_A, Symbol("AAPL"), since=since)
        assert activity.orders_since == uow.orders.count_by_user(USER_A, since=since) == 6
        # a1 pending + a4 processing + the executed BUY; a5 is cancelled.
        assert activity.buying == D("5.12345678")
        # a3 pending + the executed SELL; the applied one is in the holding already.
        assert activity.selling == D("1.62345678")
        msft = uow.orders.activity(USER_A, Symbol("MSFT"), since=since)
        assert (msft.buying, msft.selling) == (D("0.12345678"), 0)  # a2: executed, unapplied
        none = uow.orders.activity(new_id(), Symbol("AAPL"), since=since)
        assert tuple(none) == (0, 0, 0)
    with store.unit_of_work() as uow:
        assert uow.orders.mark_position_applied(bought.id, T0 + timedelta(days=4))
        uow.orders.add(make_order(side=OrderSide.SELL, quantity="0.5"))
        activity = uow.orders.activity(USER_A, Symbol("AAPL"), since=since)
        assert (activity.buying, activity.selling) == (D("2.12345678"), D("2.12345678"))
        uow.commit()
    with store.unit_of_work() as uow:
        activity = uow.orders.activity(USER_A, Symbol("AAPL"), since=since)
    assert (activity.buying, activity.selling) == (D("2.12345678"), D("2.12345678"))


def _marked(store: Store, order_id: UUID, at: datetime) -> bool:
    """Mark and commit: whether the mark was made. An adapter may refuse at
    once (False) or when the write is sent (the commit raises the conflict)."""
    with store.unit_of_work() as uow:
        uow.orders.lock_user(USER_A)
        if not uow.orders.mark_position_applied(order_id, at):
            return False
        try:
            uow.commit()
        except ConcurrencyConflict:
            return False
    return True


def test_a_position_update_is_marked_applied_once(store: Store) -> None:
    order = executed(side=OrderSide.BUY, quantity="1", at=T0)
    pending = make_order()
    save(store, order, pending)
    with store.unit_of_work() as uow:
        uow.orders.lock_user(USER_A)
        assert uow.orders.mark_position_applied(order.id, T0 + timedelta(seconds=1))
        uow.rollback()  # not applied after all
    with store.unit_of_work() as uow:
        uow.orders.lock_user(USER_A)
        assert uow.orders.mark_position_applied(order.id, T0 + timedelta(seconds=2))
        assert not uow.orders.mark_position_applied(order.id, T0 + timedelta(seconds=3))
        uow.commit()
    assert not _marked(store, order.id, T0 + timedelta(seconds=4))
    assert not _marked(store, pending.id, T0)  # not EXECUTED
    assert not _marked(store, new_id(), T0)
    with store.unit_of_work() as uow:
        stored = uow.orders.get(order.id)
        untouched = uow.orders.get(pending.id)
    assert stored is not None and stored.position_applied_at == T0 + timedelta(seconds=2)
    assert (stored.status, stored.version) == (OrderStatus.EXECUTED, order.version)
    assert untouched is not None and untouched.position_applied_at is None


def test_the_new_columns_round_trip(store: Store) -> None:
    order = make_order(status=OrderStatus.PROCESSING)
    order.attempts = 3
    order.next_attempt_at = T0 + timedelta(seconds=5, microseconds=7)
    save(store, order)
    with store.unit_of_work() as uow:
        loaded = uow.orders.get(order.id)
        assert loaded is not None
        assert (loaded.attempts, loaded.next_attempt_at) == (3, order.next_attempt_at)
        loaded.schedule_retry(T0 + timedelta(minutes=1), T0 + timedelta(seconds=6))
        uow.orders.update(loaded)
        uow.commit()
    with store.unit_of_work() as uow:
        again = uow.orders.get(order.id)
    assert again == loaded
    assert again is not None and again.attempts == 4


def test_needing_recovery_finds_the_four_kinds_of_abandoned_work(store: Store) -> None:
    now = T0 + timedelta(days=1)
    stale_before = now - timedelta(seconds=30)
    old, recent = now - timedelta(hours=1), now - timedelta(seconds=1)
    market = {"order_type": OrderType.MARKET, "price": None}

    def aged(order: Order, created: timedelta, updated: datetime) -> Order:
        order.created_at = T0 + created  # ages apart, so "oldest first" is plain
        order.updated_at = updated
        return order

    due = aged(make_order(), timedelta(minutes=1), recent)
    due.attempts, due.next_attempt_at = 1, now - timedelta(seconds=1)
    not_due = aged(make_order(status=OrderStatus.PROCESSING), timedelta(minutes=2), old)
    not_due.attempts, not_due.next_attempt_at = 1, now + timedelta(minutes=1)
    stale_processing = aged(make_order(status=OrderStatus.PROCESSING), timedelta(minutes=3), old)
    busy_processing = aged(make_order(status=OrderStatus.PROCESSING), timedelta(minutes=4), recent)
    lost_market = aged(make_order(**market), timedelta(minutes=5), old)  # type: ignore[arg-type]
    fresh_market = aged(make_order(**market), timedelta(minutes=6), recent)  # type: ignore[arg-type]
    resting_limit = aged(make_order(), timedelta(minutes=7), old)
    unapplied = executed(side=OrderSide.SELL, quantity="1", at=old)
    unapplied.created_at = T0
    just_executed = executed(side=OrderSide.BUY, quantity="1", at=recent)
    applied = executed(side=OrderSide.BUY, quantity="1", at=old, applied=old)
    cancelled = aged(make_order(status=OrderStatus.CANCELLED), timedelta(0), old)
    failed = aged(make_order(status=OrderStatus.FAILED), timedelta(0), old)
    save(
        store,
        due,
        not_due,
        stale_processing,
        busy_processing,
        lost_market,
        fresh_market,
        resting_limit,
        unapplied,
        just_executed,
        applied,
        cancelled,
        failed,
    )
    with store.unit_of_work() as uow:
        found = uow.orders.needing_recovery(now=now, stale_before=stale_before)
    assert ids(found) == ids([unapplied, due, stale_processing, lost_market])
    assert found[1] == due  # whole orders, as stored
