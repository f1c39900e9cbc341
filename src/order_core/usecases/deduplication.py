"""The idempotency protocol around a submission: one order per key.

A key's decision is the durable record the database keeps, written in the same
transaction as the order (or the rejection) it records, while the submission
holds its user's lock; so two submissions of one key are decided one after the
other, and the second replays the first. A fast store in front (the gate,
Redis) answers decided keys early and says "in progress" while a first
submission runs; it is told the database's decision, never the reverse, and a
claim it lost to a slow owner is fenced by the database.

A replay answers with what was decided, without market data and without
touching money; its status is the order's current one.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from order_core.commands import OrderRequest, SubmitOrder
from order_core.dependencies import Dependencies
from order_core.errors import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    OrderRejected,
)
from order_core.ports import UnitOfWork
from order_core.records import IdempotencyRecord, IdempotencyState, StoredRejection
from order_core.results import SubmitReceipt
from order_core.rules.idempotency import (
    Verdict,
    client_key,
    derive_key,
    judge,
    request_fingerprint,
)
from order_core.usecases.common import quietly

__all__ = [
    "Claim",
    "answer",
    "claim_early",
    "decided_under_lock",
    "new_claim",
    "settle_gate",
]


class Claim(NamedTuple):
    """This submission's idempotency key and what a record under it must say."""

    key: str
    user_id: UUID
    fingerprint: str
    token: str
    created_at: datetime
    expires_at: datetime
    #: A client's key keeps a rule rejection; a derived key is left free instead.
    from_client: bool

    def pending(self) -> IdempotencyRecord:
        return self._record(IdempotencyState.PENDING)

    def completed(self, receipt: SubmitReceipt) -> IdempotencyRecord:
        return self._record(IdempotencyState.COMPLETED, receipt=receipt)

    def failed(self, rejection: OrderRejected) -> IdempotencyRecord:
        return self._record(IdempotencyState.FAILED, rejection=StoredRejection.of(rejection))

    def _record(
        self,
        state: IdempotencyState,
        *,
        receipt: SubmitReceipt | None = None,
        rejection: StoredRejection | None = None,
    ) -> IdempotencyRecord:
        return IdempotencyRecord(
            key=self.key,
            user_id=self.user_id,
            fingerprint=self.fingerprint,
            state=state,
            token=self.token,
            created_at=self.created_at,
            expires_at=self.expires_at,
            order_id=None if receipt is None else receipt.order_id,
            receipt=receipt,
            rejection=rejection,
        )


def new_claim(
    deps: Dependencies,
    command: SubmitOrder,
    request: OrderRequest,
    order_id: UUID,
    now: datetime,
) -> Claim | None:
    """The claim this submission makes: under the client's key, else under the
    derived key while the policy keeps one; None when there is no key at all."""
    policy = deps.policy.idempotency
    if command.idempotency_key is not None:
        key = client_key(request.user_id, command.idempotency_key)
        ttl = policy.key_ttl
    elif policy.derived_key_window:
        key = derive_key(request)
        ttl = policy.derived_key_window
    else:
        return None
    return Claim(
        key=key,
        user_id=request.user_id,
        fingerprint=request_fingerprint(request),
        # The id of the order this submission will create: unique per attempt,
        # and it tells an operator which order a PENDING key is waiting for.
        token=order_id.hex,
        created_at=now,
        expires_at=now + ttl,
        from_client=command.idempotency_key is not None,
    )


def claim_early(deps: Dependencies, claim: Claim) -> SubmitReceipt | None:
    """Before anything else: the answer when ``claim``'s key is already decided
    (or raise the conflict it is in); None when this submission goes ahead.
    The gate takes the key for this submission; without one the database's
    record is read."""
    gate = deps.idempotency_gate
    if gate is None:
        with deps.unit_of_work() as uow:
            existing = uow.idempotency.get(claim.key, claim.created_at)
            if existing is None:
                return None
            return answer(deps, uow, existing, claim)
    pending = claim.pending()
    existing = gate.begin(pending)
    while existing is not None:
        verdict = judge(
            existing, claim.fingerprint, claim.created_at, deps.policy.idempotency.lock_timeout
        )
        if verdict is not Verdict.RECLAIM:
            with deps.unit_of_work() as uow:
                return answer(deps, uow, existing, claim)
        # The owner looks gone; if it is only slow, the database fences it.
        existing = gate.reclaim(existing, pending)
    return None


def decided_under_lock(uow: UnitOfWork, claim: Claim) -> IdempotencyRecord | None:
    """Inside the submission's transaction, with the user's lock held: the
    record of a decision made meanwhile by another submission of this key."""
    existing = uow.idempotency.get(claim.key, claim.created_at)
    if existing is None or (
        existing.state is IdempotencyState.PENDING and existing.token == claim.token
    ):
        return None
    return existing


def answer(
    deps: Dependencies, uow: UnitOfWork, existing: IdempotencyRecord, claim: Claim
) -> SubmitReceipt:
    """Replay a decided submission (its order's status as it is now), or raise
    what the record calls for."""
    verdict = judge(
        existing, claim.fingerprint, deps.clock.now(), deps.policy.idempotency.lock_timeout
    )
    if verdict is Verdict.REPLAY:
        receipt = existing.receipt
        assert receipt is not None
        order = uow.orders.get(receipt.order_id)
        status = receipt.status if order is None else order.status
        return receipt._replace(replayed=True, status=status)
    if verdict is Verdict.REPLAY_REJECTION:
        assert existing.rejection is not None
        raise existing.rejection.to_error()
    if verdict is Verdict.KEY_REUSED:
        raise IdempotencyKeyReused()
    retry_after = max(1, int(deps.policy.idempotency.lock_timeout.total_seconds()))
    raise IdempotencyInProgress(retry_after_seconds=retry_after)


def settle_gate(deps: Dependencies, claim: Claim, decided: IdempotencyRecord | None) -> None:
    """Tell the gate, if any, what the database decided for ``claim``'s key (a
    record, or nothing kept: the key is free again). Best effort: the
    database's record answers a retry whatever the gate holds."""
    gate = deps.idempotency_gate
    if gate is None:
        return
    if decided is None:
        quietly(gate.release, claim.key, claim.token)
    else:
        quietly(gate.finish, decided._replace(token=claim.token))
