"""The idempotency store's contract (docs/library.md, "Idempotency"), for every backend: atomic
claims, ownership proven by token, expiry."""

from __future__ import annotations

import threading
from datetime import timedelta

from order_core.ports import IdempotencyStore
from order_core.records import IdempotencyState
from tests.contract.factories import T0, make_record, receipt, rejection


def test_a_free_key_is_claimed(idempotency_store: IdempotencyStore) -> None:
    claim = make_record("u:1")
    assert idempotency_store.begin(claim) is None
    assert idempotency_store.get("u:1", T0) == claim


def test_a_held_key_is_not_claimed_and_not_changed(idempotency_store: IdempotencyStore) -> None:
    first = make_record("u:2")
    idempotency_store.begin(first)
    second = make_record("u:2", token="token-2", fingerprint="v1|other")
    assert idempotency_store.begin(second) == first
    assert idempotency_store.get("u:2", T0) == first


def test_an_expired_key_is_free(idempotency_store: IdempotencyStore) -> None:
    idempotency_store.begin(make_record("u:3", ttl=timedelta(seconds=1)))
    later = T0 + timedelta(seconds=1)
    assert idempotency_store.get("u:3", later) is None
    claim = make_record("u:3", token="token-2", at=later)
    assert idempotency_store.begin(claim) is None
    assert idempotency_store.get("u:3", later) == claim


def test_only_the_owner_finishes(idempotency_store: IdempotencyStore) -> None:
    claim = make_record("u:4")
    idempotency_store.begin(claim)
    intruder = make_record("u:4", token="intruder").completed(receipt())
    assert not idempotency_store.finish(intruder)
    done = claim.completed(receipt())
    assert idempotency_store.finish(done)
    assert idempotency_store.get("u:4", T0) == done
    assert idempotency_store.finish(done)  # finishing again with the same record is fine
    assert not idempotency_store.finish(claim.failed(rejection()))  # but not to another outcome


def test_a_rejection_is_kept_exactly(idempotency_store: IdempotencyStore) -> None:
    claim = make_record("u:5")
    idempotency_store.begin(claim)
    failed = claim.failed(rejection())
    assert idempotency_store.finish(failed)
    stored = idempotency_store.get("u:5", T0)
    assert stored == failed
    assert stored is not None and stored.state is IdempotencyState.FAILED


def test_only_the_owner_releases_and_only_a_pending_claim(
    idempotency_store: IdempotencyStore,
) -> None:
    claim = make_record("u:6")
    idempotency_store.begin(claim)
    assert not idempotency_store.release("u:6", "intruder")
    assert idempotency_store.release("u:6", claim.token)
    assert idempotency_store.get("u:6", T0) is None
    assert idempotency_store.begin(make_record("u:6", token="next")) is None
    done = make_record("u:7")
    idempotency_store.begin(done)
    idempotency_store.finish(done.completed(receipt()))
    assert not idempotency_store.release("u:7", done.token)
    assert idempotency_store.get("u:7", T0) is not None


def test_a_stale_claim_is_reclaimed_by_token(idempotency_store: IdempotencyStore) -> None:
    stale = make_record("u:8")
    idempotency_store.begin(stale)
    later = T0 + timedelta(minutes=1)
    mine = make_record("u:8", token="mine", at=later)
    assert idempotency_store.reclaim(stale, mine) is None
    assert idempotency_store.get("u:8", later) == mine
    # A second reclaimer holding the old view loses and sees the new owner.
    theirs = make_record("u:8", token="theirs", at=later)
    assert idempotency_store.reclaim(stale, theirs) == mine
    assert idempotency_store.finish(mine.completed(receipt()))


def test_reclaiming_a_key_that_became_free_claims_it(idempotency_store: IdempotencyStore) -> None:
    stale = make_record("u:9")
    idempotency_store.begin(stale)
    idempotency_store.release("u:9", stale.token)
    claim = make_record("u:9", token="new")
    assert idempotency_store.reclaim(stale, claim) is None
    assert idempotency_store.get("u:9", T0) == claim


def test_a_finished_key_cannot_be_reclaimed(idempotency_store: IdempotencyStore) -> None:
    claim = make_record("u:10")
    idempotency_store.begin(claim)
    done = claim.completed(receipt())
    idempotency_store.finish(done)
    assert idempotency_store.reclaim(claim, make_record("u:10", token="late")) == done


def test_many_threads_beginning_one_key_yield_one_owner(
    idempotency_store: IdempotencyStore,
) -> None:
    claims = [make_record("u:race", token=f"t{n}") for n in range(64)]
    results: list[object] = [None] * 64
    start = threading.Barrier(64)

    def begin(n: int) -> None:
        start.wait()
        results[n] = idempotency_store.begin(claims[n])

    threads = [threading.Thread(target=begin, args=(n,)) for n in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    owners = [n for n, result in enumerate(results) if result is None]
    assert len(owners) == 1
    winner = claims[owners[0]]
    assert all(result == winner for result in results if result is not None)
    assert idempotency_store.get("u:race", T0) == winner
