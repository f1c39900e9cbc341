"""The unit of work's contract: the order, its outbox messages and its
idempotency record commit together or not at all; the relay's view of the
outbox hands each committed message out once, until it is marked sent."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from order_core import (
    IdempotencyRecordExists,
    Order,
    OrderCancelled,
    OrderExecuted,
    OrderFailed,
    OrderSubmitted,
    OutboxMessage,
)
from order_core.records import IdempotencyState, Quote
from tests.backends.store import Store
from tests.contract.factories import T0, make_order, make_record, new_id, receipt


def every_event() -> list[OutboxMessage]:
    """One message of each event type, with every field set."""
    submitted = make_order()
    executed = make_order()
    executed.start_processing(Quote(executed.symbol, Decimal("150.00000001"), T0), T0)
    executed.execute(T0 + timedelta(seconds=1))
    failed = make_order()
    failed.fail("no market price for AAPL", T0)
    cancelled = make_order()
    cancelled.cancel(T0)
    fresh = Order.place(
        id=new_id(),
        user_id=submitted.user_id,
        symbol=submitted.symbol,
        side=submitted.side,
        order_type=submitted.order_type,
        quantity=submitted.quantity,
        price=submitted.price,
        stop_price=None,
        market_price=Decimal("0.00000001"),
        market_data_timestamp=T0,
        now=T0,
    )
    events = [*fresh.pull_events(), *executed.pull_events(), *failed.pull_events()]
    events += cancelled.pull_events()
    return [OutboxMessage(new_id(), event) for event in events]


def test_order_messages_and_record_commit_together(store: Store) -> None:
    order = make_order()
    messages = every_event()
    record = make_record("u:k1", state=IdempotencyState.COMPLETED)
    with store.unit_of_work() as uow:
        uow.orders.add(order)
        uow.outbox.add(messages)
        uow.idempotency.put(record)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.orders.get(order.id) == order
        assert uow.idempotency.get("u:k1", T0) == record
    with store.outbox.claim(100) as batch:
        assert list(batch.messages) == messages  # same ids, equal events, oldest first
        assert [type(m.event) for m in batch.messages] == [
            OrderSubmitted,
            OrderExecuted,
            OrderFailed,
            OrderCancelled,
        ]


def test_a_failed_unit_leaves_no_trace(store: Store) -> None:
    order = make_order()
    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        uow.orders.add(order)
        uow.outbox.add(every_event())
        uow.idempotency.put(make_record("u:k2", state=IdempotencyState.COMPLETED))
        raise RuntimeError("crash before commit")
    with store.unit_of_work() as uow:
        assert uow.orders.get(order.id) is None
        assert uow.idempotency.get("u:k2", T0) is None
    with store.outbox.claim(100) as batch:
        assert list(batch.messages) == []


def test_an_idempotency_conflict_rolls_back_the_whole_unit(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.idempotency.put(make_record("u:k3", state=IdempotencyState.COMPLETED))
        uow.commit()
    order = make_order()
    with store.unit_of_work() as uow, pytest.raises(IdempotencyRecordExists):
        uow.orders.add(order)
        uow.outbox.add(every_event()[:1])
        uow.idempotency.put(make_record("u:k3", state=IdempotencyState.COMPLETED, token="other"))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.orders.get(order.id) is None
        kept = uow.idempotency.get("u:k3", T0)
    assert kept is not None and kept.token == "token-1"
    with store.outbox.claim(100) as batch:
        assert list(batch.messages) == []


def test_a_final_record_replaces_its_own_pending_claim_only(store: Store) -> None:
    mine = make_record("u:k4")
    assert store.idempotency.begin(mine) is None
    done = mine.completed(receipt())
    with store.unit_of_work() as uow:
        uow.idempotency.put(done)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.idempotency.get("u:k4", T0) == done
    theirs = make_record("u:k6", token="theirs")
    store.idempotency.begin(theirs)
    with store.unit_of_work() as uow, pytest.raises(IdempotencyRecordExists):
        uow.idempotency.put(make_record("u:k6", token="mine").completed(receipt()))
        uow.commit()
    assert store.idempotency.get("u:k6", T0) == theirs


def test_an_expired_record_no_longer_holds_its_key(store: Store) -> None:
    old = make_record("u:k5", state=IdempotencyState.COMPLETED, ttl=timedelta(minutes=1))
    with store.unit_of_work() as uow:
        uow.idempotency.put(old)
        uow.commit()
    later = T0 + timedelta(minutes=2)
    fresh = make_record("u:k5", state=IdempotencyState.COMPLETED, token="t2", at=later)
    with store.unit_of_work() as uow:
        assert uow.idempotency.get("u:k5", later) is None
        uow.idempotency.put(fresh)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.idempotency.get("u:k5", later) == fresh


def test_records_keep_receipts_and_rejections_exactly(store: Store) -> None:
    completed = make_record("u:c", state=IdempotencyState.COMPLETED)
    failed = make_record("u:f", state=IdempotencyState.FAILED)
    with store.unit_of_work() as uow:
        uow.idempotency.put(completed)
        uow.idempotency.put(failed)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.idempotency.get("u:c", T0) == completed
        assert uow.idempotency.get("u:f", T0) == failed


def test_unsent_messages_come_back_and_sent_ones_do_not(store: Store) -> None:
    messages = every_event()
    with store.unit_of_work() as uow:
        uow.outbox.add(messages)
        uow.commit()
    with store.outbox.claim(2) as batch:
        assert list(batch.messages) == messages[:2]
    with store.outbox.claim(2) as batch:  # not marked: handed out again, same ids
        assert list(batch.messages) == messages[:2]
        batch.mark_sent()
    with store.outbox.claim(10) as batch:
        assert list(batch.messages) == messages[2:]
        batch.mark_sent()
    with store.outbox.claim(10) as batch:
        assert list(batch.messages) == []


def test_concurrent_claims_never_share_a_message(store: Store) -> None:
    messages = [OutboxMessage(new_id(), m.event) for m in every_event() * 25]
    with store.unit_of_work() as uow:
        uow.outbox.add(messages)
        uow.commit()
    sent: list[OutboxMessage] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def relay() -> None:
        start.wait()
        while True:
            with store.outbox.claim(7) as batch:
                if not batch.messages:
                    return
                with lock:
                    sent.extend(batch.messages)
                batch.mark_sent()

    threads = [threading.Thread(target=relay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m.message_id for m in sent) == sorted(m.message_id for m in messages)
