"""The platform's ``hub_investments.OrderService`` over :class:`~order_core.OrderService`.

A sync grpcio server: a thread pool sized to the database pool, a bounded
number of concurrent calls, ``grpc.health.v1`` health checking and server
reflection (both open), and the platform's tokens checked on every
OrderService call (:mod:`order_adapters.grpc.identity`). On the embedded
``memory://`` broker, orders are processed in-process right after each call
that stores work (docs/grpc.md)."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent import futures
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import grpc
from grpc_health.v1 import health_pb2

from order_adapters.deadlines import caller_deadline
from order_adapters.grpc.errors import abort_unexpected, abort_with
from order_adapters.grpc.generated import order_service_pb2 as pb
from order_adapters.grpc.generated import order_service_pb2_grpc as pb_grpc
from order_adapters.grpc.hosting import listen_on, serve_health_and_reflection
from order_adapters.grpc.identity import (
    Authenticator,
    IdentityInterceptor,
    caller,
)
from order_adapters.memory.broker import InProcessBroker
from order_adapters.runners import InProcessProcessing
from order_adapters.runtime import Runtime
from order_adapters.simulated.demo import DEMO_CASH, DEMO_POSITIONS
from order_adapters.user_ids import platform_user_id, service_user_id
from order_core.commands import SubmitOrder
from order_core.errors import InvalidInput, OrderAccessDenied, OrderError
from order_core.results import OrderDetails

__all__ = ["SERVICE_NAME", "OrderServer", "OrderServicer", "remaining"]

_log = logging.getLogger("order_adapters.grpc")
SERVICE_NAME = "hub_investments.OrderService"
#: The monolith's history page: 50 by default, at most 100.
DEFAULT_HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 100
_R = TypeVar("_R")


def rfc3339(moment: datetime) -> str:
    """UTC, ``2025-11-04T10:00:00.123456Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _double(value: Decimal) -> float:
    return float(value)


def _number(value: float, field: str) -> float:
    """A double from the wire; NaN and infinities are input errors, not crashes."""
    if not math.isfinite(value):
        raise InvalidInput(f"{field} must be a finite number", field=field, value=str(value))
    return value


class OrderServicer(pb_grpc.OrderServiceServicer):
    """The five RPCs. ``processing`` runs after calls that store work (None:
    another process does, e.g. a worker behind a real broker)."""

    def __init__(
        self, runtime: Runtime, processing: InProcessProcessing | None, *, authenticated: bool
    ) -> None:
        self._runtime = runtime
        self._service = runtime.service
        self._processing = processing
        self._authenticated = authenticated
        #: Users whose simulated account this process has made sure of: once
        #: each, not a transaction per order.
        self._accounts_opened: set[UUID] = set()

    # -- plumbing -----------------------------------------------------------------

    def _call(self, context: grpc.ServicerContext, method: str, body: Callable[[], _R]) -> _R:
        """Run ``body``: an :class:`OrderError` is answered from the table, a deadline
        that passed is DEADLINE_EXCEEDED (grpc answers the client itself; nothing
        here may turn it into INTERNAL), anything else INTERNAL with a correlation id.

        Deadlines: database calls are bounded by the statement timeout
        (``ORDERS_DATABASE_STATEMENT_TIMEOUT``); calls to the platform's services
        end within what is left of the caller's deadline (:func:`caller_deadline`).
        A call whose deadline has already passed when it is picked up does no work."""
        if _expired(context):
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded before start")
        try:
            with caller_deadline(remaining(context)):
                return body()
        except OrderError as error:
            if _expired(context):
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
            abort_with(context, error)
        except Exception as error:
            if isinstance(error, grpc.RpcError):  # an abort already set the status
                raise
            if _expired(context):
                _log.warning("%s: deadline passed while serving (%r)", method, error)
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
            abort_unexpected(context, method, error)

    def _user(self, raw: str) -> UUID:
        """The request's user: the token's when the request leaves it empty; another
        user than the token's is refused."""
        authenticated = caller()
        if not raw.strip():
            if authenticated is not None:
                return authenticated
            raise InvalidInput("user_id is required", code="REQUIRED", field="user_id")
        user = service_user_id(raw)
        if authenticated is not None and user != authenticated:
            raise _NotTheCaller()
        return user

    def _api(self, message: str, code: int = 200) -> Any:
        from order_adapters.grpc.generated import common_pb2  # noqa: PLC0415

        return common_pb2.APIResponse(
            success=True, message=message, code=code, timestamp=int(time.time())
        )

    @property
    def processes_orders(self) -> bool:
        return self._processing is not None

    def process(self) -> None:
        if self._processing is None:
            return
        try:
            self._processing.pump()
        except OrderError as error:  # stored; processed by a later pump or recovery
            _log.warning("stored, processing deferred (%s): %s", error.code, error.message)

    def _details(self, order: OrderDetails) -> pb.OrderDetails:
        message = pb.OrderDetails(
            order_id=str(order.order_id),
            user_id=platform_user_id(order.user_id),
            symbol=order.symbol,
            order_type=order.order_type.value,
            order_side=order.order_side.value,
            quantity=_double(order.quantity),
            status=order.status.value,
            created_at=rfc3339(order.created_at),
            updated_at=rfc3339(order.updated_at),
            estimated_value=_double(order.estimated_value or Decimal(0)),
        )
        if order.price is not None:
            message.price = _double(order.price)
        if order.stop_price is not None:
            message.stop_price = _double(order.stop_price)
        if order.executed_at is not None:
            message.executed_at = rfc3339(order.executed_at)
        if order.execution_price is not None:
            message.execution_price = _double(order.execution_price)
        if order.market_price_at_submission is not None:
            message.market_price_at_submission = _double(order.market_price_at_submission)
        if order.market_data_timestamp is not None:
            message.market_data_timestamp = rfc3339(order.market_data_timestamp)
        if order.execution_value is not None:
            message.execution_value = _double(order.execution_value)
        return message

    # -- the RPCs -----------------------------------------------------------------

    def SubmitOrder(  # noqa: N802  # the proto's names
        self, request: pb.SubmitOrderRequest, context: grpc.ServicerContext
    ) -> pb.SubmitOrderResponse:
        def body() -> pb.SubmitOrderResponse:
            user = self._user(request.user_id)
            key = _metadata(context, "idempotency-key")
            if key is None and request.HasField("idempotency_key"):
                key = request.idempotency_key
            command = SubmitOrder(
                user_id=user,
                symbol=request.symbol,
                order_type=request.order_type,
                order_side=request.order_side,
                quantity=_number(request.quantity, "quantity"),
                price=_number(request.price, "price") if request.HasField("price") else None,
                stop_price=(
                    _number(request.stop_price, "stop_price")
                    if request.HasField("stop_price")
                    else None
                ),
                idempotency_key=key or None,
            )
            command.parse()  # malformed input is refused before an account is opened
            # The simulated platform opens the demo account on a user's first order.
            if user not in self._accounts_opened:
                self._runtime.ledger.open_account(
                    user, cash=DEMO_CASH, positions=DEMO_POSITIONS, if_missing=True
                )
                self._accounts_opened.add(user)  # a set: safe across the pool's threads
            receipt = self._service.submit(command)
            self.process()
            message = (
                "Order already submitted (idempotent request)"
                if receipt.replayed
                else "Order submitted successfully"
            )
            return pb.SubmitOrderResponse(
                api_response=self._api(message, 202),
                order_id=str(receipt.order_id),
                status=receipt.status.value,
                estimated_price=_double(receipt.estimated_price),
                estimated_value=_double(receipt.estimated_value),
                market_price=_double(receipt.market_price),
                submitted_at=rfc3339(receipt.submitted_at),
            )

        return self._call(context, "SubmitOrder", body)

    def GetOrderDetails(  # noqa: N802
        self, request: pb.GetOrderDetailsRequest, context: grpc.ServicerContext
    ) -> pb.GetOrderDetailsResponse:
        def body() -> pb.GetOrderDetailsResponse:
            user = self._user(request.user_id)
            details = self._service.get_details(_order_id(request.order_id), user)
            return pb.GetOrderDetailsResponse(
                api_response=self._api("Order details retrieved successfully"),
                order=self._details(details),
            )

        return self._call(context, "GetOrderDetails", body)

    def GetOrderStatus(  # noqa: N802
        self, request: pb.GetOrderStatusRequest, context: grpc.ServicerContext
    ) -> pb.GetOrderStatusResponse:
        def body() -> pb.GetOrderStatusResponse:
            user = self._user(request.user_id)
            view = self._service.get_status(_order_id(request.order_id), user)
            return pb.GetOrderStatusResponse(
                api_response=self._api("Order status retrieved successfully"),
                order_id=str(view.order_id),
                status=view.status.value,
                status_message=view.status_message,
                updated_at=rfc3339(view.updated_at),
            )

        return self._call(context, "GetOrderStatus", body)

    def CancelOrder(  # noqa: N802
        self, request: pb.CancelOrderRequest, context: grpc.ServicerContext
    ) -> pb.CancelOrderResponse:
        def body() -> pb.CancelOrderResponse:
            user = self._user(request.user_id)
            receipt = self._service.cancel(_order_id(request.order_id), user)
            self.process()
            return pb.CancelOrderResponse(
                api_response=self._api("Order cancelled successfully"),
                order_id=str(receipt.order_id),
                status=receipt.status.value,
                cancelled_at=rfc3339(receipt.cancelled_at),
            )

        return self._call(context, "CancelOrder", body)

    def GetOrderHistory(  # noqa: N802
        self, request: pb.GetOrderHistoryRequest, context: grpc.ServicerContext
    ) -> pb.GetOrderHistoryResponse:
        def body() -> pb.GetOrderHistoryResponse:
            user = self._user(request.user_id)
            limit = request.limit if request.HasField("limit") else 0
            limit = DEFAULT_HISTORY_LIMIT if limit == 0 else min(limit, MAX_HISTORY_LIMIT)
            offset = request.offset if request.HasField("offset") else 0
            status = request.status if request.HasField("status") and request.status else None
            page = self._service.get_history(user, limit=limit, offset=offset, status=status)
            return pb.GetOrderHistoryResponse(
                api_response=self._api("Order history retrieved successfully"),
                orders=[self._details(order) for order in page.orders],
                total_count=page.total_count,
                limit=page.limit,
                offset=page.offset,
            )

        return self._call(context, "GetOrderHistory", body)


class _NotTheCaller(OrderAccessDenied):
    """The request names another user than the token's."""

    default_code = "USER_MISMATCH"

    def __init__(self) -> None:
        OrderError.__init__(
            self, "user_id is not the authenticated user", code=self.default_code, field="user_id"
        )


def remaining(context: grpc.ServicerContext) -> float | None:
    """Seconds left of the call's deadline (None: no deadline): the timeout to
    give any outbound call made while serving it."""
    left: float | None = context.time_remaining()
    return None if left is None else max(0.0, left)


def _expired(context: grpc.ServicerContext) -> bool:
    left = remaining(context)
    return left is not None and left <= 0.0


def _order_id(raw: str) -> str:
    if not raw.strip():
        raise InvalidInput("order_id is required", code="REQUIRED", field="order_id")
    return raw


def _metadata(context: grpc.ServicerContext, key: str) -> str | None:
    for name, value in context.invocation_metadata() or ():
        if name == key:
            return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return None


class OrderServer:
    """The server around a runtime: :meth:`start`, then :meth:`stop` (health goes
    NOT_SERVING, new calls are refused, calls in flight finish within ``grace``)."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        listen: str,
        jwt_secret: str | None,
        workers: int | None = None,
    ) -> None:
        self.runtime = runtime
        processing = (
            InProcessProcessing.of(runtime)
            if isinstance(runtime.publisher, InProcessBroker)
            else None
        )
        database = runtime.settings.database
        pool = workers or max(4, database.pool_size + database.max_overflow)
        interceptors: list[grpc.ServerInterceptor] = []
        if jwt_secret is not None:
            interceptors.append(IdentityInterceptor(Authenticator(jwt_secret), (SERVICE_NAME,)))
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=pool, thread_name_prefix="grpc"),
            interceptors=interceptors,
            maximum_concurrent_rpcs=pool * 4,
        )
        self.servicer = OrderServicer(runtime, processing, authenticated=jwt_secret is not None)
        add: Callable[[OrderServicer, grpc.Server], None] = (
            pb_grpc.add_OrderServiceServicer_to_server
        )
        add(self.servicer, self._server)
        self.health = serve_health_and_reflection(
            self._server, (pb.DESCRIPTOR.services_by_name["OrderService"].full_name,)
        )
        self.port, self.address = listen_on(self._server, listen, setting="grpc_listen")
        self._stopped = threading.Event()

    @property
    def processes_orders(self) -> bool:
        """Whether this server processes the orders it stores (no broker: no
        worker does); then it owns recovery too."""
        return self.servicer.processes_orders

    def process_stored(self) -> None:
        """Process what is stored and due (at start, after recovery)."""
        self.servicer.process()

    def start(self) -> None:
        self._server.start()
        for service in ("", SERVICE_NAME):
            self.health.set(service, health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace: float = 25.0) -> None:
        """NOT_SERVING first, then refuse new calls and wait for those in flight."""
        self.health.enter_graceful_shutdown()
        self._server.stop(grace).wait(grace + 1)
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)
