"""The five RPCs, the error table, tokens and user ids, through ``orders serve``."""

from __future__ import annotations

import re
import uuid
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from tests.grpc.conftest import DEADLINE, Seed, gateway_metadata, mint

RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def call(method: Any, request: Any, user: str, token: str | None = None, **extra: str) -> Any:
    metadata = gateway_metadata(user, token) + list(extra.items())
    return method(request, timeout=DEADLINE, metadata=metadata)


def refused(method: Any, request: Any, metadata: list[tuple[str, str]]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        method(request, timeout=DEADLINE, metadata=metadata)
    return caught.value


def submit(seed: Seed, stub: Any, user: str, **fields: Any) -> Any:
    request = seed.pb.SubmitOrderRequest(
        user_id=user,
        symbol=fields.pop("symbol", "AAPL"),
        order_type=fields.pop("order_type", "MARKET"),
        order_side=fields.pop("order_side", "BUY"),
        quantity=fields.pop("quantity", 1),
        **fields,
    )
    return call(stub.SubmitOrder, request, user)


def fresh_user() -> str:
    return str(uuid.uuid4().int % 10**9 + 1000)


def test_health_is_serving(channel: Any) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "hub_investments.OrderService"):
        answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=DEADLINE)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_the_five_rpcs_for_an_integer_user(seed: Seed, stub: Any) -> None:
    user = fresh_user()
    executed = submit(seed, stub, user, quantity=2)
    assert executed.api_response.success and executed.api_response.code == 202
    assert executed.api_response.timestamp > 0
    assert executed.estimated_value == pytest.approx(2 * executed.estimated_price)
    assert executed.market_price > 0
    assert RFC3339_UTC.fullmatch(executed.submitted_at)

    details = call(
        stub.GetOrderDetails,
        seed.pb.GetOrderDetailsRequest(order_id=executed.order_id, user_id=user),
        user,
    )
    order = details.order
    assert details.api_response.code == 200
    assert order.user_id == user  # rendered back as the platform's integer
    assert (order.symbol, order.order_type, order.order_side) == ("AAPL", "MARKET", "BUY")
    assert order.status == "EXECUTED" and order.quantity == 2
    assert order.execution_value == pytest.approx(2 * order.execution_price)
    assert order.estimated_value > 0
    assert RFC3339_UTC.fullmatch(order.executed_at) and RFC3339_UTC.fullmatch(order.created_at)

    # The gateway leaves user_id empty on GetOrderStatus: the token's user is taken.
    status = call(
        stub.GetOrderStatus, seed.pb.GetOrderStatusRequest(order_id=executed.order_id), user
    )
    assert status.status == "EXECUTED" and status.status_message.startswith("Order executed")
    assert RFC3339_UTC.fullmatch(status.updated_at)

    resting = submit(seed, stub, user, order_type="LIMIT", price=175.0)
    assert resting.status == "PENDING"
    cancelled = call(
        stub.CancelOrder, seed.pb.CancelOrderRequest(order_id=resting.order_id, user_id=user), user
    )
    assert cancelled.status == "CANCELLED" and RFC3339_UTC.fullmatch(cancelled.cancelled_at)

    history = call(stub.GetOrderHistory, seed.pb.GetOrderHistoryRequest(user_id=user), user)
    assert history.total_count == 2 and (history.limit, history.offset) == (50, 0)
    assert [o.order_id for o in history.orders] == [resting.order_id, executed.order_id]


def test_a_uuid_user_is_answered_with_its_uuid(seed: Seed, stub: Any) -> None:
    user = str(uuid.uuid4())
    receipt = submit(seed, stub, user)
    details = call(
        stub.GetOrderDetails,
        seed.pb.GetOrderDetailsRequest(order_id=receipt.order_id, user_id=user),
        user,
    )
    assert details.order.user_id == user


def test_history_pages_and_filters(seed: Seed, stub: Any) -> None:
    user = fresh_user()
    ids = [submit(seed, stub, user, order_type="LIMIT", price=175.0 + n).order_id for n in range(3)]
    call(stub.CancelOrder, seed.pb.CancelOrderRequest(order_id=ids[0], user_id=user), user)

    page = call(
        stub.GetOrderHistory, seed.pb.GetOrderHistoryRequest(user_id=user, limit=2, offset=1), user
    )
    assert page.total_count == 3 and (page.limit, page.offset) == (2, 1)
    assert [o.order_id for o in page.orders] == [ids[1], ids[0]]  # newest first

    pending = call(
        stub.GetOrderHistory, seed.pb.GetOrderHistoryRequest(user_id=user, status="PENDING"), user
    )
    assert pending.total_count == 2 and {o.order_id for o in pending.orders} == set(ids[1:])

    capped = call(
        stub.GetOrderHistory, seed.pb.GetOrderHistoryRequest(user_id=user, limit=1000), user
    )
    assert capped.limit == 100


def test_idempotency_by_metadata(seed: Seed, stub: Any) -> None:
    user = fresh_user()
    request = seed.pb.SubmitOrderRequest(
        user_id=user, symbol="MSFT", order_type="MARKET", order_side="BUY", quantity=1
    )
    first = call(stub.SubmitOrder, request, user, **{"idempotency-key": "k-1"})
    again = call(stub.SubmitOrder, request, user, **{"idempotency-key": "k-1"})
    assert again.order_id == first.order_id
    assert "idempotent" in again.api_response.message

    other = seed.pb.SubmitOrderRequest(
        user_id=user, symbol="MSFT", order_type="MARKET", order_side="BUY", quantity=3
    )
    error = refused(stub.SubmitOrder, other, [*gateway_metadata(user), ("idempotency-key", "k-1")])
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _info(error).reason == "IDEMPOTENCY_KEY_REUSED"


def _info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return info


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": float("nan")}, "quantity"),
        ({"quantity": float("inf")}, "quantity"),
        ({"symbol": ""}, "symbol"),
        ({"order_side": "SIDEWAYS"}, "order_side"),
        ({"order_type": "LIMIT", "price": -1.0}, "price"),
    ],
)
def test_malformed_input_is_invalid_argument_naming_the_field(
    seed: Seed, stub: Any, fields: dict[str, Any], field: str
) -> None:
    user = fresh_user()
    with pytest.raises(grpc.RpcError) as caught:
        submit(seed, stub, user, **fields)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(caught.value)
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert bad.field_violations[0].field == field


def test_a_rule_rejection_carries_its_code_limit_and_value(seed: Seed, stub: Any) -> None:
    user = fresh_user()
    with pytest.raises(grpc.RpcError) as caught:
        submit(seed, stub, user, order_side="SELL", quantity=10_000)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = _info(caught.value)
    assert info.reason == "INSUFFICIENT_POSITION"
    assert info.metadata["limit"] == "50" and info.metadata["value"] == "10000"


def test_unknown_other_users_and_wrong_state(seed: Seed, stub: Any) -> None:
    owner, other = fresh_user(), fresh_user()
    unknown = refused(
        stub.GetOrderDetails,
        seed.pb.GetOrderDetailsRequest(order_id=str(uuid.uuid4()), user_id=owner),
        gateway_metadata(owner),
    )
    assert unknown.code() == grpc.StatusCode.NOT_FOUND

    executed = submit(seed, stub, owner)
    theirs = refused(
        stub.GetOrderDetails,
        seed.pb.GetOrderDetailsRequest(order_id=executed.order_id, user_id=other),
        gateway_metadata(other),
    )
    assert theirs.code() == grpc.StatusCode.PERMISSION_DENIED

    too_late = refused(
        stub.CancelOrder,
        seed.pb.CancelOrderRequest(order_id=executed.order_id, user_id=owner),
        gateway_metadata(owner),
    )
    assert too_late.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _info(too_late).reason == "ORDER_NOT_CANCELLABLE"

    malformed = refused(
        stub.GetOrderStatus,
        seed.pb.GetOrderStatusRequest(order_id="not-an-id", user_id=owner),
        gateway_metadata(owner),
    )
    assert malformed.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not.a.jwt",
        f"Bearer {mint('7', secret='another-secret-of-the-same-length-32b')}",
        f"Bearer {mint('7', expires_in=-60)}",
        mint("7"),  # no Bearer
        "Basic dXNlcjpwYXNz",
    ],
    ids=["missing", "garbage", "bad-signature", "expired", "no-bearer", "basic"],
)
def test_token_cases_are_unauthenticated(seed: Seed, stub: Any, authorization: str | None) -> None:
    metadata = [] if authorization is None else [("authorization", authorization)]
    error = refused(stub.GetOrderHistory, seed.pb.GetOrderHistoryRequest(user_id="7"), metadata)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_token_for_another_user_is_permission_denied(seed: Seed, stub: Any) -> None:
    error = refused(
        stub.GetOrderHistory,
        seed.pb.GetOrderHistoryRequest(user_id="8"),
        gateway_metadata("8", token=mint("7")),
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
