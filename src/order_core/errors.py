"""The errors the order service raises on purpose.

Every error carries a stable ``code`` (part of the contract: clients switch on
it), a human sentence, and where it applies the ``field``, the ``limit`` and the
offending ``value`` as data. Each class carries a :class:`ErrorCategory`:
adapters map that onto their protocol's status codes (exit codes, gRPC) and
never need to parse the message or know every class.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from order_core.exact import format_decimal

__all__ = [
    "ConcurrencyConflict",
    "DependencyUnavailable",
    "ErrorCategory",
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "IdempotencyRecordExists",
    "IllegalTransition",
    "InsufficientBalance",
    "InsufficientPosition",
    "InvalidInput",
    "OrderAccessDenied",
    "OrderError",
    "OrderNotCancellable",
    "OrderNotFound",
    "OrderRejected",
    "OrderStateError",
    "RejectionCode",
    "RiskRejected",
    "ValidationRejected",
]

Detail = str | int | Decimal | None


def _as_text(value: Detail) -> str | int | None:
    if isinstance(value, Decimal):
        # Not value.normalize(), which rounds to the caller's decimal context.
        return format_decimal(value)
    return value


class ErrorCategory(StrEnum):
    """What kind of failure an error is, as a caller must react to it."""

    INVALID_INPUT = "INVALID_INPUT"
    """The request is malformed; fix it before sending it again."""
    REJECTED = "REJECTED"
    """A business rule refused the order; the same request is refused again."""
    NOT_FOUND = "NOT_FOUND"
    """No such order."""
    FORBIDDEN = "FORBIDDEN"
    """The order belongs to another user."""
    WRONG_STATE = "WRONG_STATE"
    """The order's state (or the key's earlier use) does not allow the operation."""
    CONFLICT = "CONFLICT"
    """Another request got there first or is still running; a retry may succeed."""
    UNAVAILABLE = "UNAVAILABLE"
    """A dependency is down; nothing was decided, so a retry may succeed."""


class OrderError(Exception):
    """Base class of every error raised by the order service on purpose."""

    default_code: ClassVar[str] = "ORDER_ERROR"
    # A refusal unless a subclass says otherwise: the base is raised only for
    # refusals that have no class of their own.
    category: ClassVar[ErrorCategory] = ErrorCategory.REJECTED

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        limit: Detail = None,
        value: Detail = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = str(code or self.default_code)
        self.field = field
        self.limit = limit
        self.value = value

    def to_dict(self) -> dict[str, str | int | None]:
        """The error as data: code, message, field, limit, value (decimals as text)."""
        return {
            "code": self.code,
            "message": self.message,
            "field": self.field,
            "limit": _as_text(self.limit),
            "value": _as_text(self.value),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidInput(OrderError):
    """Malformed input: a field is missing, of the wrong kind or out of its domain.

    Raised before anything is looked up or written; ``field`` names the input.
    """

    default_code = "INVALID_INPUT"
    category = ErrorCategory.INVALID_INPUT


class RejectionCode(StrEnum):
    """Stable codes of the business rules that can reject an order."""

    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    TRADING_NOT_PERMITTED = "TRADING_NOT_PERMITTED"
    SYMBOL_NOT_FOUND = "SYMBOL_NOT_FOUND"
    SYMBOL_NOT_TRADEABLE = "SYMBOL_NOT_TRADEABLE"
    SYMBOL_INACTIVE = "SYMBOL_INACTIVE"
    PRICE_OUTSIDE_TOLERANCE = "PRICE_OUTSIDE_TOLERANCE"
    PRICE_NOT_ON_TICK = "PRICE_NOT_ON_TICK"
    QUANTITY_BELOW_MINIMUM = "QUANTITY_BELOW_MINIMUM"
    QUANTITY_ABOVE_MAXIMUM = "QUANTITY_ABOVE_MAXIMUM"
    INSUFFICIENT_POSITION = "INSUFFICIENT_POSITION"
    MARKET_CLOSED = "MARKET_CLOSED"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    MAX_ORDER_VALUE_EXCEEDED = "MAX_ORDER_VALUE_EXCEEDED"
    MAX_ORDER_QUANTITY_EXCEEDED = "MAX_ORDER_QUANTITY_EXCEEDED"
    DAILY_ORDER_LIMIT_REACHED = "DAILY_ORDER_LIMIT_REACHED"
    MAX_POSITION_EXCEEDED = "MAX_POSITION_EXCEEDED"


class OrderRejected(OrderError):
    """A business rule refused the order. Deterministic: the same request against
    the same state is refused again, so idempotency stores and replays it."""

    default_code = "ORDER_REJECTED"
    category = ErrorCategory.REJECTED
    kind: ClassVar[str] = "rejected"

    def __init__(
        self,
        message: str,
        *,
        code: str,
        field: str | None = None,
        limit: Detail = None,
        value: Detail = None,
    ) -> None:
        super().__init__(message, code=code, field=field, limit=limit, value=value)


class ValidationRejected(OrderRejected):
    """Refused by an order validation rule (docs/library.md, "Policies")."""

    kind = "validation"


class RiskRejected(OrderRejected):
    """Refused by a risk management rule (docs/library.md, "Policies")."""

    kind = "risk"


class InsufficientBalance(RiskRejected):
    """The account cannot pay for a BUY: ``limit`` is what is available,
    ``value`` what the order needs."""

    def __init__(self, *, available: Decimal, required: Decimal) -> None:
        super().__init__(
            f"insufficient balance: the order needs {_as_text(required)}, "
            f"{_as_text(available)} is available",
            code=RejectionCode.INSUFFICIENT_BALANCE,
            field="quantity",
            limit=available,
            value=required,
        )


class InsufficientPosition(ValidationRejected):
    """The account does not hold enough of the symbol to SELL: ``limit`` is the
    sellable quantity, ``value`` the quantity asked."""

    def __init__(self, *, available: Decimal, required: Decimal) -> None:
        super().__init__(
            f"insufficient position: selling {_as_text(required)} but only "
            f"{_as_text(available)} is available to sell",
            code=RejectionCode.INSUFFICIENT_POSITION,
            field="quantity",
            limit=available,
            value=required,
        )


class OrderNotFound(OrderError):
    """No order has this id."""

    default_code = "ORDER_NOT_FOUND"
    category = ErrorCategory.NOT_FOUND

    def __init__(self, order_id: UUID) -> None:
        super().__init__(f"order {order_id} not found", field="order_id", value=str(order_id))
        self.order_id = order_id


class OrderAccessDenied(OrderError):
    """The order belongs to another user (the seed's 403)."""

    default_code = "ORDER_ACCESS_DENIED"
    category = ErrorCategory.FORBIDDEN

    def __init__(self, order_id: UUID) -> None:
        super().__init__(
            f"order {order_id} belongs to another user", field="user_id", value=str(order_id)
        )
        self.order_id = order_id


class OrderStateError(OrderError):
    """The order's status does not allow the operation."""

    default_code = "INVALID_ORDER_STATE"
    category = ErrorCategory.WRONG_STATE


class IllegalTransition(OrderStateError):
    """A status change the state machine does not allow (terminal states never move)."""

    default_code = "ILLEGAL_TRANSITION"

    def __init__(self, order_id: UUID, current: str, target: str) -> None:
        super().__init__(
            f"order {order_id} cannot go from {current} to {target}",
            field="status",
            limit=target,
            value=current,
        )
        self.current = current
        self.target = target


class OrderNotCancellable(OrderStateError):
    """Only PENDING and PROCESSING orders can be cancelled; ``value`` is the status."""

    default_code = "ORDER_NOT_CANCELLABLE"

    def __init__(self, order_id: UUID, status: str) -> None:
        super().__init__(
            f"order {order_id} is {status} and can no longer be cancelled",
            field="status",
            value=status,
        )
        self.status = status


class ConcurrencyConflict(OrderError):
    """Another writer changed the order first (its version moved); nothing was written.

    Reload and decide again: exactly one of two racing updates wins.
    """

    default_code = "CONCURRENT_MODIFICATION"
    category = ErrorCategory.CONFLICT

    def __init__(self, order_id: UUID, expected_version: int) -> None:
        super().__init__(
            f"order {order_id} was modified concurrently (expected version {expected_version})",
            field="version",
            value=expected_version,
        )
        self.order_id = order_id


class IdempotencyKeyReused(OrderError):
    """The idempotency key was used before for a different request."""

    default_code = "IDEMPOTENCY_KEY_REUSED"
    category = ErrorCategory.WRONG_STATE

    def __init__(self) -> None:
        super().__init__(
            "idempotency key was already used for a different request",
            field="idempotency_key",
        )


class IdempotencyInProgress(OrderError):
    """A request with this idempotency key is still being processed; retry shortly.
    It never creates a second order."""

    default_code = "IDEMPOTENCY_IN_PROGRESS"
    category = ErrorCategory.CONFLICT

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "a request with this idempotency key is still in progress; "
            f"retry in {retry_after_seconds} s",
            field="idempotency_key",
            limit=retry_after_seconds,
        )
        self.retry_after_seconds = retry_after_seconds


class IdempotencyRecordExists(OrderError):
    """Raised by a unit of work when the durable idempotency record for a key is
    already held by another submission; the use case then replays that record."""

    default_code = "IDEMPOTENCY_RECORD_EXISTS"
    category = ErrorCategory.CONFLICT

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency record {key!r} already exists", field="idempotency_key")
        self.key = key


class DependencyUnavailable(OrderError):
    """A dependency (database, broker, market data, balance service, ...) cannot be
    reached. Transient: nothing was decided, so a retry may succeed."""

    default_code = "DEPENDENCY_UNAVAILABLE"
    category = ErrorCategory.UNAVAILABLE

    def __init__(self, dependency: str, reason: str = "") -> None:
        detail = f": {reason}" if reason else ""
        super().__init__(f"{dependency} is unavailable{detail}", field=None, value=dependency)
        self.dependency = dependency
