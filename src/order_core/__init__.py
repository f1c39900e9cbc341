"""order_core: the order domain, its rules, use cases and ports.

Standard library only. Build an :class:`OrderService` from
:class:`Dependencies` (the ports), then submit, process, cancel and query
orders through it. ``order_adapters`` provides implementations of the ports.
"""

from order_core.commands import OrderRequest, SubmitOrder
from order_core.dependencies import Dependencies
from order_core.errors import (
    ConcurrencyConflict,
    DependencyUnavailable,
    ErrorCategory,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    IdempotencyRecordExists,
    IllegalTransition,
    InsufficientBalance,
    InsufficientPosition,
    InvalidInput,
    OrderAccessDenied,
    OrderError,
    OrderNotCancellable,
    OrderNotFound,
    OrderRejected,
    OrderStateError,
    RejectionCode,
    RiskRejected,
    ValidationRejected,
)
from order_core.events import (
    OrderCancelled,
    OrderEvent,
    OrderExecuted,
    OrderFailed,
    OrderSubmitted,
    OutboxMessage,
    event_name,
)
from order_core.order import Order
from order_core.policy import (
    IdempotencyPolicy,
    OrderPolicy,
    RetryPolicy,
    RiskPolicy,
    ValidationPolicy,
)
from order_core.results import (
    CancelReceipt,
    HistoryPage,
    OrderDetails,
    OrderStatusView,
    ProcessOutcome,
    ProcessResult,
    SubmitReceipt,
    SweepReport,
)
from order_core.service import OrderService
from order_core.usecases.relay import relay_outbox
from order_core.usecases.worker import Disposition, Handling
from order_core.values import OrderSide, OrderStatus, OrderType, Price, Quantity, Symbol

__version__ = "0.1.0"

__all__ = [
    "CancelReceipt",
    "ConcurrencyConflict",
    "Dependencies",
    "DependencyUnavailable",
    "Disposition",
    "ErrorCategory",
    "Handling",
    "HistoryPage",
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "IdempotencyPolicy",
    "IdempotencyRecordExists",
    "IllegalTransition",
    "InsufficientBalance",
    "InsufficientPosition",
    "InvalidInput",
    "Order",
    "OrderAccessDenied",
    "OrderCancelled",
    "OrderDetails",
    "OrderError",
    "OrderEvent",
    "OrderExecuted",
    "OrderFailed",
    "OrderNotCancellable",
    "OrderNotFound",
    "OrderPolicy",
    "OrderRejected",
    "OrderRequest",
    "OrderService",
    "OrderSide",
    "OrderStateError",
    "OrderStatus",
    "OrderStatusView",
    "OrderSubmitted",
    "OrderType",
    "OutboxMessage",
    "Price",
    "ProcessOutcome",
    "ProcessResult",
    "Quantity",
    "RejectionCode",
    "RetryPolicy",
    "RiskPolicy",
    "RiskRejected",
    "SubmitOrder",
    "SubmitReceipt",
    "SweepReport",
    "Symbol",
    "ValidationPolicy",
    "ValidationRejected",
    "__version__",
    "event_name",
    "relay_outbox",
]
