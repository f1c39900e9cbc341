"""One table from the core's error categories to gRPC status codes, with the
details a client can read (``google.rpc.BadRequest``, ``google.rpc.ErrorInfo``)."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from order_core.errors import ErrorCategory, OrderError

__all__ = ["DOMAIN", "STATUS_OF", "abort_with", "abort_unexpected"]

_log = logging.getLogger("order_adapters.grpc")

#: ``ErrorInfo.domain`` of this service's errors.
DOMAIN = "orders.hub_investments"

#: Every category to its status code (docs/grpc.md has the gateway's HTTP status).
STATUS_OF: dict[ErrorCategory, grpc.StatusCode] = {
    ErrorCategory.INVALID_INPUT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCategory.REJECTED: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCategory.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorCategory.FORBIDDEN: grpc.StatusCode.PERMISSION_DENIED,
    ErrorCategory.WRONG_STATE: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCategory.CONFLICT: grpc.StatusCode.ABORTED,
    ErrorCategory.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
}


def _text(value: str | int | Decimal | None) -> str:
    return "" if value is None else str(value)


def _detail(message: error_details_pb2.BadRequest | error_details_pb2.ErrorInfo) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def status_of(error: OrderError) -> status_pb2.Status:
    """The ``google.rpc.Status`` an error is answered with."""
    code: grpc.StatusCode = STATUS_OF[error.category]
    status = status_pb2.Status(code=code.value[0], message=error.message)
    facts = {key: str(value) for key, value in error.to_dict().items() if value is not None}
    facts.pop("message", None)
    if error.category is ErrorCategory.INVALID_INPUT:
        violation = error_details_pb2.BadRequest.FieldViolation(
            field=error.field or "", description=error.message
        )
        status.details.append(_detail(error_details_pb2.BadRequest(field_violations=[violation])))
    else:
        info = error_details_pb2.ErrorInfo(reason=error.code, domain=DOMAIN)
        info.metadata.update(facts)
        status.details.append(_detail(info))
    return status


def abort_with(context: grpc.ServicerContext, error: OrderError) -> NoReturn:
    context.abort_with_status(rpc_status.to_status(status_of(error)))
    raise AssertionError("abort_with_status returns only by raising")  # pragma: no cover


def abort_unexpected(context: grpc.ServicerContext, method: str, error: Exception) -> NoReturn:
    """Log the exception with a correlation id and answer INTERNAL with that id only."""
    correlation = uuid.uuid4().hex
    _log.error("%s failed unexpectedly (correlation id %s)", method, correlation, exc_info=error)
    status = status_pb2.Status(
        code=code_pb2.INTERNAL, message=f"internal error (correlation id {correlation})"
    )
    context.abort_with_status(rpc_status.to_status(status))
    raise AssertionError("abort_with_status returns only by raising")  # pragma: no cover
