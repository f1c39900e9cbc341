"""Hypothesis-generated SubmitOrder requests against ``orders serve``: any text,
any double, missing optional fields, random metadata. Whatever comes in is
input: never INTERNAL or UNKNOWN, and the server still serves afterwards."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.grpc.conftest import DEADLINE, Seed, gateway_metadata, mint

USER = "4242"
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}

doubles = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 0.1, 1e-9, 5e-324, 1e18, 1e19, 1.7976931348623157e308]),
    st.decimals(places=8, min_value=-(10**12), max_value=10**12).map(float),
)


def texts(*usual: str) -> st.SearchStrategy[str]:
    """Usual values more often than not (to get past validation), any text too."""
    return st.one_of(st.sampled_from(usual), st.sampled_from(usual), st.text(max_size=40))


# Metadata a client can send: lowercase ASCII keys (not grpc-reserved, not -bin),
# printable ASCII values.
metadata_keys = st.from_regex(r"[a-z][a-z0-9_.-]{0,15}", fullmatch=True).filter(
    lambda key: not key.startswith("grpc-") and not key.endswith("-bin")
)
metadata_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
extra_metadata = st.lists(
    st.tuples(st.one_of(st.just("idempotency-key"), metadata_keys), metadata_values),
    max_size=4,
)


@st.composite
def requests(draw: st.DrawFn, seed: Seed) -> tuple[Any, list[tuple[str, str]]]:
    fields: dict[str, Any] = {
        "user_id": draw(texts(USER, USER, "", "1")),
        "symbol": draw(texts("AAPL", "MSFT", "aapl", "")),
        "order_type": draw(texts("MARKET", "LIMIT", "STOP_LOSS", "STOP_LIMIT", "")),
        "order_side": draw(texts("BUY", "SELL", "")),
        "quantity": draw(st.one_of(st.sampled_from([1.0, 2.0, 0.5, 3.0]), doubles)),
    }
    for optional, strategy in (
        ("price", doubles),
        ("stop_price", doubles),
        ("idempotency_key", st.text(max_size=40)),
    ):
        value = draw(st.one_of(st.none(), strategy))
        if value is not None and optional in seed.pb.SubmitOrderRequest.DESCRIPTOR.fields_by_name:
            fields[optional] = value
    metadata = gateway_metadata(USER)
    authorization = draw(  # the right token three times in four
        st.one_of(
            st.just(None),
            st.just(None),
            st.just(None),
            metadata_values.map(lambda value: f"Bearer {value}"),
        )
    )
    if authorization is not None:
        metadata[0] = ("authorization", authorization)
    metadata += draw(extra_metadata)
    return seed.pb.SubmitOrderRequest(**fields), metadata


@pytest.mark.usefixtures("served")
def test_any_submit_is_answered_without_internal_errors(
    seed: Seed, stub: Any, channel: Any
) -> None:
    mint(USER)  # the module's token helper works before hypothesis starts

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(requests(seed))
    def answered(drawn: tuple[Any, list[tuple[str, str]]]) -> None:
        request, metadata = drawn
        code, details = grpc.StatusCode.OK, ""
        try:
            stub.SubmitOrder(request, timeout=DEADLINE, metadata=metadata)
        except grpc.RpcError as error:
            code, details = error.code(), error.details()  # type: ignore[attr-defined]
        assert code not in NEVER, (code, details, request, metadata)

    answered()
    health = health_pb2_grpc.HealthStub(channel)
    answer = health.Check(health_pb2.HealthCheckRequest(), timeout=DEADLINE)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
