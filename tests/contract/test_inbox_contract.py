"""The inbox's contract: a handled message is recorded with its effect's
transaction, once, per consumer, and forgotten only when old enough."""

from __future__ import annotations

from datetime import timedelta

from tests.backends.store import Store
from tests.contract.factories import T0, make_order, new_id


def test_a_record_commits_with_its_unit_and_is_seen_afterwards(store: Store) -> None:
    message_id = new_id()
    with store.unit_of_work() as uow:
        assert not uow.inbox.seen(message_id, "order-processor")
        uow.orders.add(make_order())
        uow.inbox.record(message_id, "order-processor", T0)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.inbox.seen(message_id, "order-processor")
        # Another consumer of the same message has its own record.
        assert not uow.inbox.seen(message_id, "position-keeper")


def test_a_rolled_back_record_is_not_seen(store: Store) -> None:
    message_id = new_id()
    with store.unit_of_work() as uow:
        uow.orders.add(make_order())
        uow.inbox.record(message_id, "order-processor", T0)
        uow.rollback()
    with store.unit_of_work() as uow:
        uow.inbox.record(new_id(), "order-processor", T0)
        # Leaving the block without commit discards it too.
    with store.unit_of_work() as uow:
        assert not uow.inbox.seen(message_id, "order-processor")


def test_recording_twice_is_no_error_and_keeps_one_record(store: Store) -> None:
    message_id = new_id()
    for _ in range(2):
        with store.unit_of_work() as uow:
            uow.inbox.record(message_id, "position-keeper", T0)
            uow.commit()
    with store.unit_of_work() as uow:
        assert uow.inbox.seen(message_id, "position-keeper")


def test_only_records_older_than_the_cutoff_are_forgotten(store: Store) -> None:
    old, recent = new_id(), new_id()
    with store.unit_of_work() as uow:
        uow.inbox.record(old, "order-processor", T0)
        uow.inbox.record(recent, "order-processor", T0 + timedelta(days=8))
        uow.commit()
    with store.unit_of_work() as uow:
        uow.inbox.forget_before(T0 + timedelta(days=7))
        uow.commit()
    with store.unit_of_work() as uow:
        assert not uow.inbox.seen(old, "order-processor")
        assert uow.inbox.seen(recent, "order-processor")
