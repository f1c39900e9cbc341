"""``OrderService``: the use cases behind one object, built once at an entry
point from :class:`Dependencies` and then shared (it holds no mutable state)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from uuid import UUID

from order_core.commands import SubmitOrder
from order_core.dependencies import Dependencies
from order_core.events import OutboxMessage
from order_core.records import AccountBook, OrderActivity
from order_core.results import (
    CancelReceipt,
    Discrepancy,
    HistoryPage,
    OrderDetails,
    OrderStatusView,
    ProcessResult,
    RecoveryReport,
    SubmitReceipt,
    SweepReport,
)
from order_core.usecases.audit import audit_books
from order_core.usecases.cancel import cancel_order
from order_core.usecases.positions import apply_position_update
from order_core.usecases.process import fail_order, process_order
from order_core.usecases.queries import (
    get_order_details,
    get_order_history,
    get_order_status,
    get_pending_quantities,
)
from order_core.usecases.recovery import DEFAULT_STALE_AFTER, recover
from order_core.usecases.submit import submit_order
from order_core.usecases.sweep import sweep_resting_orders
from order_core.usecases.worker import Handling, handle_message, keep_position
from order_core.values import OrderStatus, Symbol

__all__ = ["OrderService"]


class OrderService:
    """The order service's operations. Thread-safe if its ports are."""

    def __init__(self, dependencies: Dependencies) -> None:
        self.dependencies = dependencies

    def submit(self, command: SubmitOrder) -> SubmitReceipt:
        """Submit an order; see :func:`~order_core.usecases.submit.submit_order`."""
        return submit_order(self.dependencies, command)

    def process(self, order_id: UUID, *, user_id: UUID | None = None) -> ProcessResult:
        """Execute an order if the market allows it now."""
        return process_order(self.dependencies, order_id, user_id=user_id)

    def sweep(self, symbols: Iterable[Symbol] | None = None) -> SweepReport:
        """Execute resting orders the current prices make executable."""
        return sweep_resting_orders(self.dependencies, symbols)

    def recover(
        self, *, stale_after: timedelta = DEFAULT_STALE_AFTER, keep_positions: bool = True
    ) -> RecoveryReport:
        """Finish or undo work abandoned for ``stale_after``; see
        :func:`~order_core.usecases.recovery.recover`."""
        return recover(self.dependencies, stale_after=stale_after, keep_positions=keep_positions)

    def audit(self, books: Iterable[AccountBook]) -> list[Discrepancy]:
        """Every discrepancy between the ledger's ``books`` and the orders."""
        return audit_books(self.dependencies, books)

    def apply_position_update(self, order_id: UUID) -> bool:
        """Apply an executed order to its holding, once (the service's own ledger)."""
        return apply_position_update(self.dependencies, order_id)

    def fail(self, order_id: UUID, reason: str) -> ProcessResult:
        """Fail a live order for good (e.g. when its retries are used up)."""
        return fail_order(self.dependencies, order_id, reason)

    def cancel(self, order_id: UUID | str, user_id: UUID | str) -> CancelReceipt:
        """Cancel one of the user's PENDING or PROCESSING orders."""
        return cancel_order(self.dependencies, order_id, user_id)

    def get_details(self, order_id: UUID | str, user_id: UUID | str) -> OrderDetails:
        return get_order_details(self.dependencies, order_id, user_id)

    def get_status(self, order_id: UUID | str, user_id: UUID | str) -> OrderStatusView:
        return get_order_status(self.dependencies, order_id, user_id)

    def get_pending_quantities(self, user_id: UUID | str, symbol: Symbol | str) -> OrderActivity:
        """What the user's orders are still to buy and sell of ``symbol``."""
        return get_pending_quantities(self.dependencies, user_id, symbol)

    def get_history(
        self,
        user_id: UUID | str,
        *,
        limit: int | None = None,
        offset: int | None = None,
        status: OrderStatus | str | None = None,
    ) -> HistoryPage:
        return get_order_history(
            self.dependencies, user_id, limit=limit, offset=offset, status=status
        )

    def keep_position(
        self, message: OutboxMessage, retries_done: int = 0, *, redelivered: bool = False
    ) -> Handling:
        """What the position keeper of a service-owned ledger does with a message.
        ``redelivered``: the broker may have delivered it before (the inbox is read)."""
        return keep_position(self.dependencies, message, retries_done, redelivered=redelivered)

    def handle_message(
        self, message: OutboxMessage, retries_done: int = 0, *, redelivered: bool = False
    ) -> Handling:
        """What a worker does with one delivered message (process, retry or
        dead-letter). ``redelivered``: the broker may have delivered it before."""
        return handle_message(self.dependencies, message, retries_done, redelivered=redelivered)
