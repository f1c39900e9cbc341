"""The wire formats: every document round-trips exactly, decimals are plain JSON
numbers, times keep their offset, and what earlier versions wrote is still read
(in memory, and through PostgreSQL's JSONB and SQLite's text). The Redis
document through the server is tested in test_redis_store.py.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Union, get_args, get_origin, get_type_hints
from uuid import UUID, uuid4

import pytest
from cattrs.errors import ClassValidationError
from hypothesis import given
from hypothesis import strategies as st

from order_adapters.wire import (
    dumps,
    event_from_document,
    event_to_document,
    loads,
    record_from_json,
    record_to_json,
    response_from_document,
    response_to_document,
)
from order_core.events import (
    EVENT_TYPES,
    OrderCancelled,
    OrderEvent,
    OrderExecuted,
    OrderSubmitted,
    OutboxMessage,
)
from order_core.records import IdempotencyRecord, IdempotencyState, StoredRejection
from order_core.results import SubmitReceipt
from order_core.values import OrderSide, OrderStatus, OrderType, Symbol

LARGEST = Decimal("9999999999.99999999")  # 10 integer digits, 8 places: the columns' range
AT = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)

# -- strategies -------------------------------------------------------------------------

amounts = st.one_of(
    st.decimals(min_value=-LARGEST, max_value=LARGEST, places=8),
    st.decimals(min_value=-LARGEST, max_value=LARGEST, places=8).map(Decimal.normalize),
    st.integers(min_value=-(10**10) + 1, max_value=10**10 - 1).map(Decimal),
)
offsets = st.one_of(
    st.just(UTC),
    st.integers(min_value=-14 * 60, max_value=14 * 60).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    ),
)
times = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2999, 12, 31), timezones=offsets
)
symbols = st.from_regex(r"[A-Z0-9][A-Z0-9.\-/]{0,19}", fullmatch=True).map(Symbol)
ints_or_text = st.one_of(st.none(), st.integers(), st.text())

_BY_TYPE: dict[Any, st.SearchStrategy[Any]] = {
    UUID: st.uuids(),
    Symbol: symbols,
    Decimal: amounts,
    datetime: times,
    str: st.text(),
    bool: st.booleans(),
    OrderSide: st.sampled_from(OrderSide),
    OrderType: st.sampled_from(OrderType),
    OrderStatus: st.sampled_from(OrderStatus),
    IdempotencyState: st.sampled_from(IdempotencyState),
}


def _strategy(hint: Any) -> st.SearchStrategy[Any]:
    if get_origin(hint) in (Union, types.UnionType):
        arguments = get_args(hint)
        if set(arguments) == {str, int, type(None)}:
            return ints_or_text
        return st.one_of(*(_strategy(argument) for argument in arguments))
    if hint is type(None):
        return st.none()
    if hint in (SubmitReceipt, StoredRejection):
        return records_of(hint)
    return _BY_TYPE[hint]


def records_of(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Any instance of the named tuple ``cls``, every field drawn by its type."""
    hints = get_type_hints(cls)
    return st.builds(cls, **{name: _strategy(hints[name]) for name in cls._fields})


events = st.one_of(*(records_of(cls) for cls in EVENT_TYPES.values()))
idempotency_records = records_of(IdempotencyRecord)


def through_json(document: Any) -> Any:
    return loads(dumps(document))


def same_offsets(left: tuple[Any, ...], right: tuple[Any, ...]) -> bool:
    """Equal datetimes are the same instant; the offsets must survive too."""
    return all(
        a.utcoffset() == b.utcoffset()
        for a, b in zip(left, right, strict=True)
        if isinstance(a, datetime)
    )


# -- round trips ------------------------------------------------------------------------


@given(events)
def test_every_event_round_trips_exactly(event: OrderEvent) -> None:
    event_type, document = event_to_document(event)
    restored = event_from_document(event_type, through_json(document))
    assert restored == event
    assert type(restored) is type(event)
    assert same_offsets(restored, event)
    assert type(restored.symbol) is Symbol and type(restored.order_side) is OrderSide


@given(idempotency_records)
def test_every_idempotency_record_round_trips_exactly(record: IdempotencyRecord) -> None:
    restored = record_from_json(record_to_json(record))
    assert restored == record
    assert same_offsets(restored, record)
    if record.receipt is not None:
        assert restored.receipt is not None
        assert same_offsets(restored.receipt, record.receipt)
    if record.rejection is not None:
        assert restored.rejection is not None
        assert [type(restored.rejection.limit), type(restored.rejection.value)] == [
            type(record.rejection.limit),
            type(record.rejection.value),
        ]


@given(records_of(SubmitReceipt), records_of(StoredRejection))
def test_every_response_round_trips_exactly(
    receipt: SubmitReceipt, rejection: StoredRejection
) -> None:
    stored = receipt._replace(replayed=False)  # a replay marks its own copy
    assert response_from_document(through_json(response_to_document(receipt, None))) == (
        stored,
        None,
    )
    assert response_from_document(through_json(response_to_document(None, rejection))) == (
        None,
        rejection,
    )
    assert response_to_document(None, None) is None
    assert response_from_document(None) == (None, None)


@given(records_of(SubmitReceipt))
def test_equal_records_give_the_same_text(receipt: SubmitReceipt) -> None:
    # Redis compares stored documents as text.
    scaled = receipt._replace(estimated_price=receipt.estimated_price.quantize(Decimal("1E-8")))
    record = IdempotencyRecord.pending(
        key="u:k", user_id=UUID(int=1), fingerprint="f", token="t", now=AT, ttl=timedelta(days=1)
    )
    assert record_to_json(record.completed(scaled)) == record_to_json(record.completed(receipt))


# -- how values are written -------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        ("150.25", b"150.25"),
        ("150.25000000", b"150.25"),
        ("10", b"10"),
        ("10.00000000", b"10"),
        ("1E+1", b"10"),
        ("0.00000001", b"0.00000001"),
        ("1E-8", b"0.00000001"),
        ("0E-8", b"0"),
        ("9999999999.99999999", b"9999999999.99999999"),
        ("-0.5", b"-0.5"),
    ],
)
def test_decimals_are_plain_json_numbers(amount: str, written: bytes) -> None:
    receipt = SubmitReceipt(UUID(int=1), OrderStatus.PENDING, *[Decimal(amount)] * 3, AT)
    text = dumps(response_to_document(receipt, None))
    assert text.count(b":" + written + b",") == 3
    restored = loads(text)["receipt"]["market_price"]
    assert restored == Decimal(amount) and isinstance(restored, int | Decimal)


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_a_decimal_json_cannot_hold_is_refused(amount: str) -> None:
    receipt = SubmitReceipt(UUID(int=1), OrderStatus.PENDING, *[Decimal(amount)] * 3, AT)
    with pytest.raises(ValueError, match="no number"):
        response_to_document(receipt, None)


def test_a_float_is_never_taken_for_money() -> None:
    # A float has already lost digits (a JSON reader not set up for decimals).
    document = through_json(response_to_document(receipt_at(AT), None))
    document["receipt"]["market_price"] = 150.1
    with pytest.raises(ClassValidationError) as caught:
        response_from_document(document)
    assert "must be a JSON number" in repr(caught.value.exceptions)


def receipt_at(moment: datetime) -> SubmitReceipt:
    return SubmitReceipt(
        UUID(int=1), OrderStatus.PENDING, Decimal(1), Decimal(2), Decimal(3), moment
    )


def test_times_are_rfc_3339_with_their_offset() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    moment = datetime(2026, 3, 1, 17, 30, 0, 5, tzinfo=india)
    text = dumps(response_to_document(receipt_at(moment), None))
    assert b'"submitted_at":"2026-03-01T17:30:00.000005+05:30"' in text
    receipt, _ = response_from_document(loads(text))
    assert receipt is not None and receipt.submitted_at.utcoffset() == timedelta(hours=5.5)


def test_naive_times_are_refused_both_ways() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        response_to_document(receipt_at(datetime(2026, 3, 1, 12)), None)
    document = through_json(response_to_document(receipt_at(AT), None))
    document["receipt"]["submitted_at"] = "2026-03-01T12:00:00"
    with pytest.raises(ClassValidationError):
        response_from_document(document)


def test_the_outbox_payload_is_the_events_fields() -> None:
    event = OrderCancelled(
        UUID(int=1),
        UUID(int=2),
        Symbol("BRK.A"),
        OrderSide.SELL,
        OrderType.STOP_LIMIT,
        Decimal("12.50000000"),
        AT,
        OrderStatus.PENDING,
    )
    event_type, document = event_to_document(event)
    assert event_type == "OrderCancelledEvent"
    assert dumps(document) == (
        b'{"order_id":"00000000-0000-0000-0000-000000000001",'
        b'"user_id":"00000000-0000-0000-0000-000000000002","symbol":"BRK.A",'
        b'"order_side":"SELL","order_type":"STOP_LIMIT","quantity":12.5,'
        b'"occurred_at":"2026-03-01T12:00:00.123456+00:00","previous_status":"PENDING"}'
    )


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        event_from_document("OrderExplodedEvent", {})


# -- what earlier versions wrote --------------------------------------------------------

# An outbox payload and the response_data of the previous release: decimals as text.
OLD_PAYLOAD = (
    "OrderExecutedEvent",
    '{"order_id":"00000000-0000-0000-0000-000000000001",'
    '"user_id":"00000000-0000-0000-0000-000000000002","symbol":"BRK.A","order_side":"SELL",'
    '"order_type":"STOP_LIMIT","quantity":"1E-8","occurred_at":"2026-03-01T12:00:00.123456+00:00",'
    '"execution_price":"9999999999.99999999","executed_at":"2026-03-01T12:00:00.123456+00:00",'
    '"total_value":"0.09999999","market_price_at_exec":"150.10000000",'
    '"market_data_timestamp":"2026-03-01T12:00:00.123455+00:00"}',
)
OLD_EXECUTED = OrderExecuted(
    UUID(int=1),
    UUID(int=2),
    Symbol("BRK.A"),
    OrderSide.SELL,
    OrderType.STOP_LIMIT,
    Decimal("0.00000001"),
    AT,
    LARGEST,
    AT,
    Decimal("0.09999999"),
    Decimal("150.1"),
    AT - timedelta(microseconds=1),
)
OLD_RECEIPT = (
    '{"receipt": {"order_id": "00000000-0000-4000-8000-00000000beef", "status": "PENDING",'
    ' "estimated_price": "1E-8", "estimated_value": "9999999999.99999999",'
    ' "market_price": "150.10000000", "submitted_at": "2026-03-01T12:00:00.123457+00:00",'
    ' "replayed": false}}'
)
RECEIPT = SubmitReceipt(
    UUID("00000000-0000-4000-8000-00000000beef"),
    OrderStatus.PENDING,
    Decimal("0.00000001"),
    LARGEST,
    Decimal("150.1"),
    AT + timedelta(microseconds=1),
)
OLD_REJECTION = (
    '{"rejection": {"kind": "risk", "code": "MAX_ORDER_QUANTITY_EXCEEDED", "message":'
    ' "quantity 100001 is above the maximum \\u2014 \\u00ab100000\\u00bb", "field": null,'
    ' "limit": 100000, "value": "100001.00000001"}}'
)
REJECTION = StoredRejection(
    "risk",
    "MAX_ORDER_QUANTITY_EXCEEDED",
    "quantity 100001 is above the maximum — «100000»",
    None,
    100000,
    "100001.00000001",
)


def test_documents_of_the_previous_release_are_still_read() -> None:
    assert event_from_document(OLD_PAYLOAD[0], loads(OLD_PAYLOAD[1])) == OLD_EXECUTED
    assert response_from_document(loads(OLD_RECEIPT)) == (RECEIPT, None)
    assert response_from_document(loads(OLD_REJECTION)) == (None, REJECTION)


# -- through the databases --------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> Iterator[Any]:
    from tests.sql_databases import empty_postgres, fresh_sqlite  # noqa: PLC0415

    if request.param == "sqlite":
        built = fresh_sqlite(
            request.getfixturevalue("sqlite_template"), request.getfixturevalue("tmp_path")
        )
    else:
        built = empty_postgres(request.getfixturevalue("postgres_url"))
    try:
        yield built
    finally:
        built.dispose()


def awkward_events(order_id: UUID) -> list[OrderEvent]:
    india = timezone(timedelta(hours=5, minutes=30))
    pacific = timezone(timedelta(hours=-8))
    submitted = OrderSubmitted(
        order_id,
        UUID(int=2),
        Symbol("BRK.A"),
        OrderSide.BUY,
        OrderType.STOP_LIMIT,
        Decimal("0.00000001"),
        AT.astimezone(india),
        LARGEST,
        Decimal("1234567890.12345678"),
        OrderStatus.PENDING,
        AT.astimezone(pacific),
        Decimal("10.00000000"),
        AT,
    )
    return [submitted, OLD_EXECUTED._replace(order_id=order_id)]


def number_types(database: Any, column: str, table: str, path: str) -> list[str]:
    """The JSON type the database sees at ``path`` of every row's ``column``."""
    if database.dialect.name == "postgresql":
        select = f"SELECT jsonb_typeof({column} #> '{{{path.replace('.', ',')}}}') FROM {table}"
    else:
        select = f"SELECT json_type({column}, '$.{path}') FROM {table}"
    with database.engine.connect() as connection:
        return [row[0] for row in connection.exec_driver_sql(select)]


def test_events_come_back_exactly_through_the_outbox(database: Any) -> None:
    messages = [OutboxMessage(uuid4(), event) for event in awkward_events(uuid4())]
    with database.unit_of_work() as uow:
        uow.outbox.add(messages)
        uow.commit()
    with database.outbox.claim(10) as batch:
        assert list(batch.messages) == messages
        for restored, message in zip(batch.messages, messages, strict=True):
            assert same_offsets(restored.event, message.event)
    # Stored as JSON numbers, not text.
    assert set(number_types(database, "payload", "order_outbox", "quantity")) <= {
        "number",
        "real",
        "integer",
    }


def test_idempotency_records_come_back_exactly(database: Any) -> None:
    from tests.contract.factories import make_order  # noqa: PLC0415

    order = make_order()
    with database.unit_of_work() as uow:
        uow.orders.add(order)
        uow.commit()
    claim = IdempotencyRecord.pending(
        key="u:exact", user_id=UUID(int=2), fingerprint="f", token="t", now=AT, ttl=timedelta(1)
    )
    done = claim.completed(RECEIPT._replace(order_id=order.id))
    assert database.idempotency.begin(claim) is None
    assert database.idempotency.finish(done)
    assert database.idempotency.get(done.key, AT) == done
    failed = claim._replace(key="u:failed").failed(REJECTION)
    with database.unit_of_work() as uow:
        uow.idempotency.put(failed)
        uow.commit()
    with database.unit_of_work() as uow:
        assert uow.idempotency.get(failed.key, AT) == failed
    stored_as = number_types(database, "response_data", "order_idempotency", "receipt.market_price")
    assert {"number", "real"} & set(stored_as)
    # Exact in the database too: JSONB keeps a numeric, SQLite the text as written.
    as_text = (
        "response_data #>> '{receipt,estimated_value}'"
        if database.dialect.name == "postgresql"
        else "response_data"
    )
    with database.engine.connect() as connection:
        stored = connection.exec_driver_sql(
            f"SELECT {as_text} FROM order_idempotency WHERE idempotency_key = 'u:exact'"
        ).scalar_one()
    assert stored == "9999999999.99999999" or '"estimated_value":9999999999.99999999,' in stored


def test_documents_of_the_previous_release_are_read_from_the_database(database: Any) -> None:
    import sqlalchemy as sa  # noqa: PLC0415

    from order_adapters.sql import schema  # noqa: PLC0415
    from tests.contract.factories import make_order  # noqa: PLC0415

    order = make_order()
    with database.unit_of_work() as uow:
        uow.orders.add(order)
        uow.commit()
    message_id = uuid4()
    # Written as the previous release did (through SQLAlchemy's own JSON encoding).
    with database.engine.begin() as connection:
        connection.execute(
            sa.insert(schema.order_outbox).values(
                message_id=message_id,
                event_type=OLD_PAYLOAD[0],
                aggregate_id=UUID(int=1),
                payload=loads(OLD_PAYLOAD[1]),
                created_at=AT.replace(tzinfo=None),
            )
        )
        for key, response, order_id in (
            ("u:old-receipt", OLD_RECEIPT, order.id),
            ("u:old-rejection", OLD_REJECTION, None),
        ):
            connection.execute(
                sa.insert(schema.order_idempotency).values(
                    idempotency_key=key,
                    order_id=order_id,
                    user_id=UUID(int=2),
                    status="COMPLETED" if order_id else "FAILED",
                    response_data=loads(response),
                    created_at=AT.replace(tzinfo=None),
                    expires_at=(AT + timedelta(days=1)).replace(tzinfo=None),
                    request_fingerprint="f",
                    owner_token="t",
                )
            )
    with database.outbox.claim(10) as batch:
        assert list(batch.messages) == [OutboxMessage(message_id, OLD_EXECUTED)]
    assert database.idempotency.get("u:old-receipt", AT).receipt == RECEIPT
    assert database.idempotency.get("u:old-rejection", AT).rejection == REJECTION
