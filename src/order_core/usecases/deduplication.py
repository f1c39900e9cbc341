"""The idempotency protocol around a submission: one order per key.

A submission under a key claims it (in the fast store, the gate, when there is
one), places its order, and writes the key's final record in the order's own
transaction, so the database's unique key is the truth. A key already decided
answers with what was decided: the stored receipt, the stored rejection, or a
conflict. The rules for keys and verdicts are in :mod:`order_core.rules.idempotency`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from order_core.commands import OrderRequest, SubmitOrder
from order_core.dependencies import Dependencies
from order_core.errors import (
    DependencyUnavailable,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    IdempotencyRecordExists,
    OrderRejected,
)
from order_core.ports import IdempotencyStore
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

__all__ = ["Claim", "Place", "deduplicated", "new_claim"]


class Claim(NamedTuple):
    """This submission's idempotency key and what a record under it must say."""

    key: str
    user_id: UUID
    fingerprint: str
    token: str
    created_at: datetime
    expires_at: datetime
    #: A client's key keeps a rule rejection; a derived key is released instead.
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


#: Places the order at a time, writing the claim's COMPLETED record in the
#: order's transaction.
Place = Callable[[datetime, Claim], SubmitReceipt]


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


def deduplicated(deps: Dependencies, claim: Claim, place: Place) -> SubmitReceipt:
    """``place`` the order unless ``claim``'s key was decided before; then
    answer as it was decided (or raise the conflict it is in)."""
    gate = deps.idempotency_gate
    if gate is not None:
        answer = _claim_in_gate(deps, gate, claim)
        if answer is not None:
            return answer
    # The durable record is not read up front: the database's unique key makes
    # a duplicate fail at commit, and a rule rejection asks the record first
    # whether this key was already decided (its answer must win over a re-run
    # rule, say a balance the first order has used). Only those rare paths pay
    # for the read.
    try:
        receipt = place(claim.created_at, claim)
    except OrderRejected as rejection:
        earlier = _durable_record(deps, claim)
        if earlier is None:
            _remember_rejection(deps, claim, rejection)
            raise
    except IdempotencyRecordExists:
        earlier = _durable_record(deps, claim)
    except BaseException:
        if gate is not None:
            quietly(gate.release, claim.key, claim.token)
        raise
    else:
        if gate is not None:
            # The order is committed; if the fast store missed this, the durable
            # record still answers a retry, so the client gets its receipt now.
            quietly(gate.finish, claim.completed(receipt))
        return receipt
    return _answer_from_durable_record(deps, claim, earlier, place)


def _claim_in_gate(
    deps: Dependencies, gate: IdempotencyStore, claim: Claim
) -> SubmitReceipt | None:
    """Take the key in the fast store. None when this submission now owns it,
    else the replayed answer (or the error to raise)."""
    pending = claim.pending()
    existing = gate.begin(pending)
    while existing is not None:
        verdict = judge(
            existing, claim.fingerprint, claim.created_at, deps.policy.idempotency.lock_timeout
        )
        if verdict is not Verdict.RECLAIM:
            return _answer(existing, verdict, deps)
        existing = gate.reclaim(existing, pending)
    return None


def _answer(existing: IdempotencyRecord, verdict: Verdict, deps: Dependencies) -> SubmitReceipt:
    """Replay a decided submission, or raise what the verdict calls for."""
    if verdict is Verdict.REPLAY:
        assert existing.receipt is not None
        return existing.receipt._replace(replayed=True)
    if verdict is Verdict.REPLAY_REJECTION:
        assert existing.rejection is not None
        raise existing.rejection.to_error()
    if verdict is Verdict.KEY_REUSED:
        raise IdempotencyKeyReused()
    retry_after = max(1, int(deps.policy.idempotency.lock_timeout.total_seconds()))
    raise IdempotencyInProgress(retry_after_seconds=retry_after)


def _remember_rejection(deps: Dependencies, claim: Claim, rejection: OrderRejected) -> None:
    """Store a rule rejection under a client key so a retry gets the same answer.

    Under a derived key the key is released instead: the user may fix the cause
    (top up, wait for the market) and send the identical order again.
    """
    gate = deps.idempotency_gate
    if not claim.from_client:
        if gate is not None:
            quietly(gate.release, claim.key, claim.token)
        return
    final = claim.failed(rejection)
    if gate is not None:
        quietly(gate.finish, final)
        return
    with (
        contextlib.suppress(IdempotencyRecordExists, DependencyUnavailable),
        deps.unit_of_work() as uow,
    ):
        uow.idempotency.put(final)
        uow.commit()


def _durable_record(deps: Dependencies, claim: Claim) -> IdempotencyRecord | None:
    with deps.unit_of_work() as uow:
        return uow.idempotency.get(claim.key, deps.clock.now())


def _answer_from_durable_record(
    deps: Dependencies, claim: Claim, existing: IdempotencyRecord | None, place: Place
) -> SubmitReceipt:
    """This key was decided before (or is being decided): answer with what the
    database holds, and teach the fast store, if any, the truth."""
    gate = deps.idempotency_gate
    now = deps.clock.now()
    if existing is None:  # expired at this very moment; the client may retry
        if gate is not None:
            quietly(gate.release, claim.key, claim.token)
        raise IdempotencyInProgress(retry_after_seconds=1)
    verdict = judge(existing, claim.fingerprint, now, deps.policy.idempotency.lock_timeout)
    if verdict is Verdict.RECLAIM and gate is None:
        # A PENDING record whose owner crashed (another process used the database
        # as its gate): adopting its token lets our final record replace it, and
        # a racing reclaimer then loses at the unique key.
        return place(now, claim._replace(token=existing.token))
    if gate is not None:
        quietly(gate.finish, existing._replace(token=claim.token))
    return _answer(existing, verdict, deps)
