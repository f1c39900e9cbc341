"""The Redis idempotency store beyond the shared contract: its wire format, its
keys' expiry in Redis, and what callers see when Redis is down. Against the
real server (skipped with the start command when it is down; failing under
ORDERS_REQUIRE_SERVICES=1), under a per-test key prefix that is emptied after.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import cast
from uuid import UUID

import pytest
import redis

from order_adapters.redis import RedisIdempotencyStore
from order_adapters.wire import loads, record_from_json, record_to_json
from order_core.errors import DependencyUnavailable
from order_core.records import IdempotencyRecord, IdempotencyState, StoredRejection
from order_core.results import SubmitReceipt
from order_core.values import OrderStatus
from tests.backends.redis import delete_keys, keys_under, redis_idempotency
from tests.services import REDIS_URL, closed_port, need, unique_name

AT = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
USER = UUID("00000000-0000-4000-8000-00000000a11c")


def awkward(
    state: IdempotencyState, *, at: datetime = AT, key: str = "u:awkward"
) -> IdempotencyRecord:
    """A record whose every value is easy to get subtly wrong on the wire."""
    claim = IdempotencyRecord.pending(
        key=key,
        user_id=USER,
        fingerprint="v1|BRK.A|LIMIT|SELL|0.00000001|9999999999.99999999|",
        token="0f" * 16,
        now=at,
        ttl=timedelta(hours=24, microseconds=1),
    )
    if state is IdempotencyState.COMPLETED:
        return claim.completed(
            SubmitReceipt(
                order_id=UUID("00000000-0000-4000-8000-00000000beef"),
                status=OrderStatus.PENDING,
                estimated_price=Decimal("0.00000001"),
                estimated_value=Decimal("9999999999.99999999"),
                market_price=Decimal("150.10000000"),
                submitted_at=at + timedelta(microseconds=1),
            )
        )
    if state is IdempotencyState.FAILED:
        return claim.failed(
            StoredRejection(
                kind="risk",
                code="MAX_ORDER_QUANTITY_EXCEEDED",
                message="quantity 100001 is above the maximum — «100000»",
                field=None,
                limit=100000,
                value="100001.00000001",
            )
        )
    return claim


@pytest.fixture
def raw() -> Iterator[redis.Redis]:
    need("Redis")
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def store(raw: redis.Redis) -> Iterator[RedisIdempotencyStore]:
    built = RedisIdempotencyStore.from_url(REDIS_URL, prefix=unique_name("orders:test:unit") + ":")
    yield built
    built.close()
    delete_keys(raw, built.prefix)
    assert keys_under(raw, built.prefix) == []


def live_claim(key: str, ttl: timedelta, token: str = "owner") -> IdempotencyRecord:
    """A claim made now by the real clock, as a deployed service makes it."""
    return IdempotencyRecord.pending(
        key=key, user_id=USER, fingerprint="v1|fp", token=token, now=datetime.now(UTC), ttl=ttl
    )


# -- the wire format -----------------------------------------------------------------


# What the previous release (wire version 1, decimals as text) wrote for awkward(state).
V1_DOCUMENTS = {
    IdempotencyState.PENDING: (
        '{"v":1,"key":"u:awkward","user_id":"00000000-0000-4000-8000-00000000a11c",'
        '"fingerprint":"v1|BRK.A|LIMIT|SELL|0.00000001|9999999999.99999999|","state":"PENDING",'
        '"token":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","created_at":"2026-03-01T12:00:00.123456+00:00",'
        '"expires_at":"2026-03-02T12:00:00.123457+00:00","expires_at_us":1772452800123457,'
        '"order_id":null,"receipt":null,"rejection":null}'
    ),
    IdempotencyState.COMPLETED: (
        '{"v":1,"key":"u:awkward","user_id":"00000000-0000-4000-8000-00000000a11c",'
        '"fingerprint":"v1|BRK.A|LIMIT|SELL|0.00000001|9999999999.99999999|","state":"COMPLETED",'
        '"token":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","created_at":"2026-03-01T12:00:00.123456+00:00",'
        '"expires_at":"2026-03-02T12:00:00.123457+00:00","expires_at_us":1772452800123457,'
        '"order_id":"00000000-0000-4000-8000-00000000beef","receipt":{"order_id":'
        '"00000000-0000-4000-8000-00000000beef","status":"PENDING","estimated_price":"0.00000001",'
        '"estimated_value":"9999999999.99999999","market_price":"150.10000000",'
        '"submitted_at":"2026-03-01T12:00:00.123457+00:00","replayed":false},"rejection":null}'
    ),
    IdempotencyState.FAILED: (
        '{"v":1,"key":"u:awkward","user_id":"00000000-0000-4000-8000-00000000a11c",'
        '"fingerprint":"v1|BRK.A|LIMIT|SELL|0.00000001|9999999999.99999999|","state":"FAILED",'
        '"token":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","created_at":"2026-03-01T12:00:00.123456+00:00",'
        '"expires_at":"2026-03-02T12:00:00.123457+00:00","expires_at_us":1772452800123457,'
        '"order_id":null,"receipt":null,"rejection":{"kind":"risk",'
        '"code":"MAX_ORDER_QUANTITY_EXCEEDED","message":"quantity 100001 is above the maximum'
        ' — «100000»","field":null,"limit":100000,"value":"100001.00000001"}}'
    ),
}


@pytest.mark.parametrize("state", list(IdempotencyState))
def test_the_wire_round_trip_is_exact(state: IdempotencyState) -> None:
    record = awkward(state)
    restored = record_from_json(record_to_json(record))
    assert restored == record
    if record.receipt is not None:
        assert restored.receipt is not None
        assert all(type(amount) is Decimal for amount in restored.receipt[2:5])
    if record.rejection is not None:
        assert restored.rejection is not None
        assert type(restored.rejection.limit) is int and type(restored.rejection.value) is str


def test_the_document_is_plain_json_with_exact_numbers() -> None:
    text = record_to_json(awkward(IdempotencyState.COMPLETED))
    # Decimals are JSON numbers in plain notation, without trailing zeros.
    assert b'"estimated_price":0.00000001,' in text
    assert b'"estimated_value":9999999999.99999999,' in text
    assert b'"market_price":150.1,' in text
    document = json.loads(text, parse_float=Decimal)
    assert document["v"] == 2
    receipt = document["receipt"]
    assert receipt["estimated_value"] == Decimal("9999999999.99999999")
    assert receipt["submitted_at"] == "2026-03-01T12:00:00.123457+00:00"
    assert document["user_id"] == str(USER) and document["state"] == "COMPLETED"
    # What the Lua scripts read: the owner's token, the state, the expiry in epoch us.
    assert document["token"] == "0f" * 16
    expires = datetime(2026, 3, 2, 12, 0, 0, 123457, tzinfo=UTC)
    assert document["expires_at_us"] == int(expires.timestamp()) * 1_000_000 + 123457


def test_a_naive_datetime_is_refused() -> None:
    naive = awkward(IdempotencyState.PENDING)._replace(created_at=datetime(2026, 3, 1, 12))
    with pytest.raises(ValueError, match="timezone-aware"):
        record_to_json(naive)


def test_a_document_of_another_wire_version_is_refused() -> None:
    document = loads(record_to_json(awkward(IdempotencyState.PENDING)))
    for version in (0, 3, "2", None):
        document["v"] = version
        with pytest.raises(ValueError, match="wire version"):
            record_from_json(json.dumps(document))


@pytest.mark.parametrize("state", list(IdempotencyState))
def test_a_version_1_document_is_still_read(state: IdempotencyState) -> None:
    restored = record_from_json(V1_DOCUMENTS[state])
    assert restored == awkward(state)
    assert record_from_json(V1_DOCUMENTS[state].encode()) == restored


# -- through the server --------------------------------------------------------------


@pytest.mark.parametrize("state", list(IdempotencyState))
def test_awkward_records_come_back_exactly(
    store: RedisIdempotencyStore, state: IdempotencyState
) -> None:
    record = awkward(state)
    assert store.begin(record._replace(state=IdempotencyState.PENDING)) is None
    if state is not IdempotencyState.PENDING:
        assert store.finish(record)
    assert store.get(record.key, AT) == record


@pytest.mark.parametrize("state", list(IdempotencyState))
def test_a_version_1_document_in_redis_is_read_and_finished(
    store: RedisIdempotencyStore, raw: redis.Redis, state: IdempotencyState
) -> None:
    # Written by the previous release; its scripts' fields are unchanged.
    raw.set(store.prefix + "u:awkward", V1_DOCUMENTS[state], px=60_000)
    record = awkward(state)
    assert store.get(record.key, AT) == record
    other = record._replace(token="other")
    assert store.begin(other._replace(state=IdempotencyState.PENDING)) == record
    if state is IdempotencyState.PENDING:
        done = awkward(IdempotencyState.COMPLETED)
        assert store.finish(done)
        assert raw.get(store.prefix + "u:awkward") == record_to_json(done)
        assert store.get(record.key, AT) == done
    else:
        assert store.finish(record)  # already final with this record, by value


def test_the_record_is_the_json_document_under_the_prefixed_key(
    store: RedisIdempotencyStore, raw: redis.Redis
) -> None:
    claim = awkward(IdempotencyState.PENDING, key=f"{USER}:client-key-1")
    store.begin(claim)
    assert raw.get(f"{store.prefix}{USER}:client-key-1") == record_to_json(claim)
    assert keys_under(raw, store.prefix) == [f"{store.prefix}{USER}:client-key-1".encode()]


def test_the_key_expires_in_redis_when_the_record_does(
    store: RedisIdempotencyStore, raw: redis.Redis
) -> None:
    store.begin(live_claim("u:day", timedelta(seconds=30)))
    assert 25_000 < raw.pttl(store.prefix + "u:day") <= 30_000

    short = live_claim("u:short", timedelta(milliseconds=200))
    store.begin(short)
    assert 0 < raw.pttl(store.prefix + "u:short") <= 200
    time.sleep(0.3)
    assert raw.exists(store.prefix + "u:short") == 0
    assert store.get("u:short", short.created_at) is None  # gone, though "now" is before expiry
    assert store.begin(live_claim("u:short", timedelta(seconds=5), token="next")) is None


def test_finishing_keeps_the_key_expiring_at_the_records_expires_at(
    store: RedisIdempotencyStore, raw: redis.Redis
) -> None:
    claim = live_claim("u:fin", timedelta(seconds=30))
    store.begin(claim)
    receipt = awkward(IdempotencyState.COMPLETED).receipt
    assert receipt is not None
    assert store.finish(claim.completed(receipt))
    assert 25_000 < raw.pttl(store.prefix + "u:fin") <= 30_000  # still expiring, at expires_at

    # Teaching the store the durable record (another submission's expiry) moves the expiry.
    other = live_claim("u:moved", timedelta(seconds=30))
    store.begin(other)
    durable = other._replace(expires_at=other.expires_at + timedelta(seconds=60))
    assert store.finish(durable.completed(receipt))
    assert 85_000 < raw.pttl(store.prefix + "u:moved") <= 90_000


def test_a_released_claim_leaves_no_key_behind(
    store: RedisIdempotencyStore, raw: redis.Redis
) -> None:
    claim = live_claim("u:rel", timedelta(seconds=30))
    store.begin(claim)
    assert store.release("u:rel", claim.token)
    assert raw.exists(store.prefix + "u:rel") == 0


def test_a_begin_repeated_after_a_lost_reply_still_owns_the_key(
    store: RedisIdempotencyStore,
) -> None:
    claim = live_claim("u:retry", timedelta(seconds=30))
    assert store.begin(claim) is None
    assert store.begin(claim) is None  # the driver's retry of the same SET NX
    assert store.begin(live_claim("u:retry", timedelta(seconds=30), token="other")) == claim
    assert store.reclaim(claim, claim) is None  # likewise for a repeated reclaim


def test_finishing_again_with_an_equal_record_written_differently_is_fine(
    store: RedisIdempotencyStore,
) -> None:
    done = awkward(IdempotencyState.COMPLETED)
    store.begin(done._replace(state=IdempotencyState.PENDING, receipt=None, order_id=None))
    assert store.finish(done)
    assert done.receipt is not None
    same_value = done.receipt._replace(market_price=Decimal("150.1"))  # == 150.10000000
    assert store.finish(done._replace(receipt=same_value))
    other_value = done.receipt._replace(market_price=Decimal("150.2"))
    assert not store.finish(done._replace(receipt=other_value))
    assert store.get(done.key, AT) == done


def test_the_contract_backend_deletes_every_key_it_wrote(raw: redis.Redis) -> None:
    with redis_idempotency() as built:
        store = cast(RedisIdempotencyStore, built)
        prefix = store.prefix
        for n in range(25):
            claim = awkward(IdempotencyState.PENDING, key=f"u:{n}")
            store.begin(claim)
            if n % 2:
                store.finish(awkward(IdempotencyState.FAILED, key=f"u:{n}"))
        assert len(keys_under(raw, prefix)) == 25
    assert keys_under(raw, prefix) == []


# -- when Redis is down ----------------------------------------------------------------

RECORD = awkward(IdempotencyState.PENDING)
CALLS: dict[str, Callable[[RedisIdempotencyStore], object]] = {
    "begin": lambda store: store.begin(RECORD),
    "get": lambda store: store.get(RECORD.key, AT),
    "finish": lambda store: store.finish(awkward(IdempotencyState.COMPLETED)),
    "release": lambda store: store.release(RECORD.key, RECORD.token),
    "reclaim": lambda store: store.reclaim(RECORD, RECORD._replace(token="new")),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_an_unreachable_redis_raises_dependency_unavailable(call: str) -> None:
    store = RedisIdempotencyStore.from_url(f"redis://127.0.0.1:{closed_port()}/0")
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable) as caught:
        CALLS[call](store)
    assert time.monotonic() - started < 2
    assert caught.value.dependency == "redis"
    assert caught.value.code == "DEPENDENCY_UNAVAILABLE"
    assert isinstance(caught.value.__cause__, redis.exceptions.ConnectionError)
    store.close()


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_hung_redis_times_out_as_dependency_unavailable(call: str) -> None:
    # A server that accepts connections and never answers: every read times out.
    with socket.create_server(("127.0.0.1", 0)) as hung:
        port = hung.getsockname()[1]
        store = RedisIdempotencyStore.from_url(
            f"redis://127.0.0.1:{port}/0", socket_timeout=0.1, socket_connect_timeout=0.1
        )
        started = time.monotonic()
        with pytest.raises(DependencyUnavailable) as caught:
            CALLS[call](store)
        assert time.monotonic() - started < 1.5
        assert isinstance(caught.value.__cause__, redis.exceptions.TimeoutError)
        store.close()


def test_a_missing_extra_says_how_to_install_it() -> None:
    # A fresh interpreter in which cattrs cannot be imported.
    program = (
        "import sys; sys.modules['cattrs'] = None\n"
        "try:\n"
        "    import order_adapters.redis\n"
        "except ImportError as error:\n"
        "    print(error, '|', type(error.__cause__).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'order-service[redis]'" in done.stdout
    assert "| ModuleNotFoundError" in done.stdout
