"""Recovery: finish or undo work a crashed or failed process left behind.

Everything a recovery pass needs is on the order rows: a retry that is due, a
PROCESSING order nobody finished, a MARKET order whose processing message was
lost, an EXECUTED order whose position update was never applied. Holds and
settlements commit with their orders, so none can be left without one; the
audit proves it. Any runner may run a pass at any time: every step is decided
by the order's versioned write, so two passes never do one thing twice. A
pass also forgets inbox records older than the retry path can need.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from order_core.dependencies import Dependencies
from order_core.errors import DependencyUnavailable, OrderError
from order_core.results import ProcessOutcome, RecoveryReport
from order_core.usecases.positions import apply_position_update
from order_core.usecases.process import process_order, schedule_retry
from order_core.values import OrderStatus

__all__ = ["DEFAULT_STALE_AFTER", "recover"]

#: How long work may sit untouched before a recovery pass takes it over.
DEFAULT_STALE_AFTER = timedelta(seconds=30)


def recover(
    deps: Dependencies,
    *,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    keep_positions: bool = True,
) -> RecoveryReport:
    """One pass over abandoned work. ``keep_positions``: this service keeps the
    positions (the simulated ledger), so it applies updates left unapplied;
    otherwise they are only reported."""
    now = deps.clock.now()
    with deps.unit_of_work() as uow:
        abandoned = uow.orders.needing_recovery(now=now, stale_before=now - stale_after)
        # Handled messages are remembered past any redelivery, then let go.
        uow.inbox.forget_before(now - deps.policy.retry.inbox_retention)
        uow.commit()
    executed: list[UUID] = []
    failed: list[UUID] = []
    resting: list[UUID] = []
    retrying: list[UUID] = []
    applied: list[UUID] = []
    unapplied: list[UUID] = []
    for order in abandoned:
        if order.status is OrderStatus.EXECUTED:
            if not keep_positions:
                unapplied.append(order.id)
            elif apply_position_update(deps, order.id):
                applied.append(order.id)
            continue
        try:
            outcome = process_order(deps, order.id).outcome
        except DependencyUnavailable as error:
            decision = schedule_retry(deps, order.id, error.message)
            (failed if decision.failure else retrying).append(order.id)
            continue
        except OrderError:
            continue  # changed under us; the next pass sees it as it is
        if outcome is ProcessOutcome.EXECUTED:
            executed.append(order.id)
        elif outcome is ProcessOutcome.FAILED:
            failed.append(order.id)
        elif outcome is ProcessOutcome.RESTING:
            resting.append(order.id)
    return RecoveryReport(
        examined=len(abandoned),
        executed=tuple(executed),
        failed=tuple(failed),
        resting=tuple(resting),
        retrying=tuple(retrying),
        positions_applied=tuple(applied),
        positions_unapplied=tuple(unapplied),
    )
