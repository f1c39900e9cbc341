"""Cancelling and reading orders; ownership in every one of them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from order_core import (
    InvalidInput,
    OrderAccessDenied,
    OrderCancelled,
    OrderNotCancellable,
    OrderNotFound,
    OrderStatus,
)
from tests.conftest import ALICE, BOB, World

D = Decimal
UNKNOWN = UUID(int=999)


def test_cancel_a_pending_order_releases_its_hold(world: World) -> None:
    order_id = world.submit(order_type="LIMIT", price="140", quantity="10")
    assert world.ledger.balances.get_balance(ALICE).reserved == D("1400")
    world.clock.advance(timedelta(seconds=3))
    receipt = world.service.cancel(order_id, ALICE)
    assert (receipt.order_id, receipt.status) == (order_id, OrderStatus.CANCELLED)
    assert receipt.cancelled_at == world.clock.now()
    assert world.ledger.balances.get_balance(ALICE).reserved == 0
    with world.database.outbox.claim(10) as batch:
        cancelled = [m.event for m in batch.messages if isinstance(m.event, OrderCancelled)]
    assert [event.previous_status for event in cancelled] == [OrderStatus.PENDING]


def test_cancelled_orders_never_execute(world: World) -> None:
    order_id = world.submit()
    world.service.cancel(order_id, ALICE)
    world.runtime.pump()
    assert world.order(order_id).status is OrderStatus.CANCELLED
    assert world.ledger.balances.get_balance(ALICE).cash == D("100000")


def test_cancelling_a_terminal_order_is_a_clear_error(world: World) -> None:
    order_id = world.submit()
    world.service.process(order_id)
    with pytest.raises(OrderNotCancellable) as caught:
        world.service.cancel(order_id, ALICE)
    assert caught.value.status == "EXECUTED"
    assert "EXECUTED" in str(caught.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda s, o, u: s.cancel(o, u),
        lambda s, o, u: s.get_details(o, u),
        lambda s, o, u: s.get_status(o, u),
    ],
)
def test_another_users_order_is_forbidden_and_an_unknown_one_not_found(
    world: World, call: object
) -> None:
    order_id = world.submit()
    with pytest.raises(OrderAccessDenied) as denied:
        call(world.service, order_id, BOB)  # type: ignore[operator]
    assert denied.value.code == "ORDER_ACCESS_DENIED"
    with pytest.raises(OrderNotFound) as missing:
        call(world.service, UNKNOWN, ALICE)  # type: ignore[operator]
    assert missing.value.code == "ORDER_NOT_FOUND"
    assert world.order(order_id).status is OrderStatus.PENDING  # untouched


def test_ids_in_text_form_are_accepted_and_checked(world: World) -> None:
    order_id = world.submit()
    assert world.service.get_status(str(order_id), str(ALICE)).order_id == order_id
    with pytest.raises(InvalidInput) as caught:
        world.service.get_status("not-an-id", ALICE)
    assert caught.value.field == "order_id"


def test_details_carry_the_seeds_fields(world: World) -> None:
    order_id = world.submit(order_type="LIMIT", price="149", quantity="3")
    details = world.order(order_id)
    assert details.symbol == "AAPL"
    assert (details.quantity, details.price, details.estimated_value) == (D(3), D(149), D(447))
    assert details.execution_price is None and details.execution_value is None
    assert details.version == 1


def test_status_messages_explain(world: World) -> None:
    executed = world.submit()
    world.service.process(executed)
    assert world.service.get_status(executed, ALICE).status_message == "Order executed at 150"
    cancelled = world.submit(quantity="2")
    world.service.cancel(cancelled, ALICE)
    assert world.service.get_status(cancelled, ALICE).status_message == "Order cancelled"


def test_history_is_newest_first_paged_and_counted(world: World) -> None:
    ids = []
    for n in range(1, 8):
        ids.append(world.submit(quantity=str(n)))
        world.clock.advance(timedelta(seconds=1))
    world.submit(user_id=BOB, symbol="TSLA", order_side="SELL")
    page = world.service.get_history(ALICE, limit=3, offset=2)
    assert page.total_count == 7
    assert (page.limit, page.offset) == (3, 2)
    assert [order.order_id for order in page.orders] == ids[::-1][2:5]
    assert world.service.get_history(ALICE, limit=3, offset=6).orders[0].order_id == ids[0]
    assert world.service.get_history(ALICE, offset=7).orders == ()


def test_history_is_stable_under_equal_timestamps(world: World) -> None:
    ids = {world.submit(quantity=str(n)) for n in range(1, 6)}  # one instant
    first = world.service.get_history(ALICE, limit=2)
    rest = world.service.get_history(ALICE, limit=3, offset=2)
    seen = [o.order_id for o in first.orders + rest.orders]
    assert set(seen) == ids and len(seen) == 5
    assert seen == [o.order_id for o in world.service.get_history(ALICE).orders]


def test_history_filters_by_status(world: World) -> None:
    done = world.submit(quantity="1")
    world.service.process(done)
    world.submit(quantity="2")
    page = world.service.get_history(ALICE, status="executed")
    assert page.total_count == 1 and page.orders[0].order_id == done


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"status": "DONE"}, "status"),
        ({"limit": True}, "limit"),
    ],
)
def test_history_rejects_bad_paging(world: World, arguments: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        world.service.get_history(ALICE, **arguments)  # type: ignore[arg-type]
    assert caught.value.field == field
