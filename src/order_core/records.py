"""The plain records the ports exchange and the rules read.

Named tuples: immutable, and cheap on the hot path. Both :mod:`order_core.ports`
and :mod:`order_core.rules` import them from here, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple
from uuid import UUID

from order_core.decimals import subtract
from order_core.errors import (
    InsufficientBalance,
    InsufficientPosition,
    OrderRejected,
    RejectionCode,
    RiskRejected,
    ValidationRejected,
)
from order_core.order import Order
from order_core.results import SubmitReceipt
from order_core.values import Symbol

__all__ = [
    "AccountBook",
    "AccountStatus",
    "AssetDetails",
    "Balance",
    "IdempotencyRecord",
    "IdempotencyState",
    "OrderActivity",
    "OrderPage",
    "Position",
    "Quote",
    "StoredRejection",
    "TradingHours",
]


# -- market data ------------------------------------------------------------------


class Quote(NamedTuple):
    symbol: Symbol
    price: Decimal
    timestamp: datetime


class AssetDetails(NamedTuple):
    symbol: Symbol
    name: str
    category: str
    tradeable: bool = True
    active: bool = True
    #: The asset's price increment; None means the policy's default.
    tick_size: Decimal | None = None


class TradingHours(NamedTuple):
    symbol: Symbol
    is_open: bool
    opens_at: datetime | None = None
    closes_at: datetime | None = None


# -- accounts, balances, positions ------------------------------------------------


class AccountStatus(NamedTuple):
    user_id: UUID
    active: bool


class Balance(NamedTuple):
    user_id: UUID
    cash: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return subtract(self.cash, self.reserved)


class Position(NamedTuple):
    user_id: UUID
    symbol: Symbol
    quantity: Decimal


# -- orders -------------------------------------------------------------------------


class OrderPage(NamedTuple):
    orders: Sequence[Order]
    total_count: int


class OrderActivity(NamedTuple):
    """A user's recent trading in one symbol, as the risk rules see it."""

    orders_since: int
    #: Quantity still to be added to the holding: open BUYs, and executed BUYs
    #: whose position update is not applied yet.
    buying: Decimal
    #: Quantity still to be taken from it: open SELLs and unapplied executed SELLs.
    selling: Decimal


class AccountBook(NamedTuple):
    """One account as a ledger keeps it, for the audit: what it was opened
    with and what it holds now."""

    user_id: UUID
    opened_at: datetime
    opening_cash: Decimal
    cash: Decimal
    reserved: Decimal
    #: symbol -> (opening quantity, quantity now)
    positions: Mapping[Symbol, tuple[Decimal, Decimal]]


# -- idempotency --------------------------------------------------------------------


class IdempotencyState(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class StoredRejection(NamedTuple):
    """A rule rejection kept so the same request is refused the same way again."""

    kind: str
    code: str
    message: str
    field: str | None
    limit: str | int | None
    value: str | int | None

    @classmethod
    def of(cls, error: OrderRejected) -> StoredRejection:
        data = error.to_dict()
        return cls(
            kind=error.kind,
            code=error.code,
            message=error.message,
            field=error.field,
            limit=data["limit"],
            value=data["value"],
        )

    def to_error(self) -> OrderRejected:
        """The rejection as the error class it was raised as (by its code, else
        its kind), so a replay is caught by the same ``except`` as the first."""
        error_class = _REJECTION_CODES.get(self.code) or _REJECTION_KINDS.get(
            self.kind, OrderRejected
        )
        error = error_class.__new__(error_class)
        # The stored sentence and details, not the class's own constructor's.
        OrderRejected.__init__(
            error,
            self.message,
            code=self.code,
            field=self.field,
            limit=self.limit,
            value=self.value,
        )
        return error


_REJECTION_KINDS: dict[str, type[OrderRejected]] = {
    ValidationRejected.kind: ValidationRejected,
    RiskRejected.kind: RiskRejected,
}
_REJECTION_CODES: dict[str, type[OrderRejected]] = {
    RejectionCode.INSUFFICIENT_BALANCE: InsufficientBalance,
    RejectionCode.INSUFFICIENT_POSITION: InsufficientPosition,
}


class IdempotencyRecord(NamedTuple):
    """What a store keeps under a key. ``token`` identifies the submission that
    holds the key: only it may finish or release a PENDING record."""

    key: str
    user_id: UUID
    fingerprint: str
    state: IdempotencyState
    token: str
    created_at: datetime
    expires_at: datetime
    order_id: UUID | None = None
    receipt: SubmitReceipt | None = None
    rejection: StoredRejection | None = None

    @classmethod
    def pending(
        cls,
        *,
        key: str,
        user_id: UUID,
        fingerprint: str,
        token: str,
        now: datetime,
        ttl: timedelta,
    ) -> IdempotencyRecord:
        return cls(
            key=key,
            user_id=user_id,
            fingerprint=fingerprint,
            state=IdempotencyState.PENDING,
            token=token,
            created_at=now,
            expires_at=now + ttl,
        )

    def completed(self, receipt: SubmitReceipt) -> IdempotencyRecord:
        return self._replace(
            state=IdempotencyState.COMPLETED, order_id=receipt.order_id, receipt=receipt
        )

    def failed(self, rejection: StoredRejection) -> IdempotencyRecord:
        return self._replace(state=IdempotencyState.FAILED, rejection=rejection)

    def is_live(self, now: datetime) -> bool:
        return now < self.expires_at
