"""A stand-in that answers as the deployed market data service does
(docs/contracts.md, "Market data service"): only symbol, company name and a
float32-rounded price; NOT_FOUND and INVALID_ARGUMENT with its texts;
GetAssetDetails UNIMPLEMENTED; and, for a few symbols, garbage."""

from __future__ import annotations

import math
import struct
from collections import Counter
from collections.abc import Iterator
from concurrent import futures
from decimal import Decimal

import grpc
import pytest

from order_adapters.bootstrap import bootstrap
from order_adapters.grpc.generated import market_data_service_pb2 as pb
from order_adapters.grpc.generated import market_data_service_pb2_grpc as pb_grpc
from order_adapters.platform.assets import price_on_step
from order_adapters.platform.market_data import GrpcMarketData
from order_adapters.platform.resilience import BadAnswer
from order_adapters.runners import InProcessProcessing
from order_adapters.settings import Settings
from order_adapters.simulated import DEMO_USER
from order_core.commands import SubmitOrder
from order_core.errors import DependencyUnavailable
from order_core.values import OrderStatus, Symbol
from tests.platform.suite.conftest import DEADLINE, market_client

#: symbol -> (company name, price as stored: DECIMAL(10,2)); the last ones are garbage.
LISTED = {
    "AAPL": ("Apple Inc.", 123.45),
    "KO": ("The Coca-Cola Co.", 62.4),
    "NANX": ("Not a number", math.nan),
    "NEGX": ("Negative", -5.0),
    "ZERO": ("Zero", 0.0),
    "EMPT": ("Empty symbol", 10.0),
}


def _float32(value: float) -> float:
    rounded: float = struct.unpack("f", struct.pack("f", value))[0]
    return rounded


class Deployed(pb_grpc.MarketDataServiceServicer):
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def _data(self, symbol: str) -> pb.MarketData | None:
        if symbol not in LISTED:
            return None
        name, price = LISTED[symbol]
        return pb.MarketData(
            symbol="" if symbol == "EMPT" else symbol,
            company_name=name,
            current_price=_float32(price),
        )

    def GetMarketData(
        self, request: pb.GetMarketDataRequest, context: grpc.ServicerContext
    ) -> pb.GetMarketDataResponse:
        self.calls["GetMarketData"] += 1
        if not request.symbol:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "symbol is required")
        data = self._data(request.symbol)
        if data is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"symbol {request.symbol} not found")
        return pb.GetMarketDataResponse(market_data=data)

    def GetBatchMarketData(
        self, request: pb.GetBatchMarketDataRequest, context: grpc.ServicerContext
    ) -> pb.GetBatchMarketDataResponse:
        self.calls["GetBatchMarketData"] += 1
        found = [data for data in map(self._data, request.symbols) if data is not None]
        return pb.GetBatchMarketDataResponse(market_data=found)

    def GetAssetDetails(
        self, request: pb.GetAssetDetailsRequest, context: grpc.ServicerContext
    ) -> pb.GetAssetDetailsResponse:
        self.calls["GetAssetDetails"] += 1
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")
        raise AssertionError("abort raises")


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[str, Deployed]]:
    servicer = Deployed()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_MarketDataServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(1).wait(5)


@pytest.fixture
def client(deployed: tuple[str, Deployed]) -> Iterator[GrpcMarketData]:
    with grpc.insecure_channel(deployed[0]) as channel:
        grpc.channel_ready_future(channel).result(timeout=DEADLINE)
        yield market_client(channel)


@pytest.mark.parametrize(
    ("sent", "step", "expected"),
    [
        (123.44999694824219, "0.01", "123.45"),
        (_float32(62.4), "0.01", "62.40"),
        (_float32(99.87), "0.125", "99.875"),
        (_float32(0.5), "0.00000001", "0.5"),
        (189.5, "0.01", "189.50"),
    ],
)
def test_float32_prices_come_out_on_the_step(sent: float, step: str, expected: str) -> None:
    price = price_on_step(sent, Decimal(step), service="test", symbol="X")

    assert price == Decimal(expected)


@pytest.mark.parametrize("sent", [math.nan, math.inf, -1.0, 0.0, 0.001])
def test_a_price_that_cannot_be_true_is_a_bad_answer(sent: float) -> None:
    with pytest.raises(BadAnswer):
        price_on_step(sent, Decimal("0.01"), service="test", symbol="X")


def test_a_float32_price_is_read_as_the_stored_decimal(client: GrpcMarketData) -> None:
    quote = client.get_quote(Symbol("AAPL"))

    assert quote is not None and quote.price == Decimal("123.45")


@pytest.mark.parametrize("symbol", ["NANX", "NEGX", "ZERO", "EMPT"])
def test_garbage_from_the_peer_is_a_typed_error(client: GrpcMarketData, symbol: str) -> None:
    with pytest.raises(DependencyUnavailable) as raised:
        client.get_quote(Symbol(symbol))

    assert raised.value.code == "DEPENDENCY_BAD_ANSWER"


def test_a_batch_leaves_garbage_out(client: GrpcMarketData) -> None:
    quotes = client.get_quotes([Symbol(s) for s in ("AAPL", "KO", "NANX", "NOPE")])

    assert {s: q.price for s, q in quotes.items()} == {
        "AAPL": Decimal("123.45"),
        "KO": Decimal("62.40"),
    }


def test_unimplemented_asset_details_are_tolerated_and_asked_once(
    deployed: tuple[str, Deployed],
) -> None:
    with grpc.insecure_channel(deployed[0]) as channel:
        market = market_client(channel, ttl=0.001)
        before = deployed[1].calls["GetAssetDetails"]
        for _ in range(3):
            asset = market.get_asset(Symbol("AAPL"))
            assert asset is not None
            assert (asset.name, asset.category, asset.tick_size) == (
                "Apple Inc.",
                "stock",
                Decimal("0.01"),
            )
        assert deployed[1].calls["GetAssetDetails"] - before == 1
        zero = market.get_asset(Symbol("ZERO"))
        assert zero is not None and not zero.tradeable  # the monolith's rule: price > 0


def test_an_order_executes_through_it_on_the_step(deployed: tuple[str, Deployed]) -> None:
    settings = Settings.of(
        database_url="memory://",
        market_data_url=f"grpc://{deployed[0]}",
        market_data_trading_hours="00:00-24:00",
    )
    with bootstrap(settings) as runtime:
        processing = InProcessProcessing.of(runtime)
        receipt = runtime.service.submit(
            SubmitOrder(
                user_id=DEMO_USER,
                symbol="AAPL",
                order_type="MARKET",
                order_side="BUY",
                quantity="3",
            )
        )
        processing.pump()
        order = runtime.service.get_details(receipt.order_id, DEMO_USER)

    assert receipt.market_price == Decimal("123.45")
    assert order.status == OrderStatus.EXECUTED.value
    assert order.execution_price == Decimal("123.45")


def test_a_peer_down_at_submit_stores_nothing_and_holds_nothing() -> None:
    settings = Settings.of(
        database_url="memory://",
        market_data_url="grpc://127.0.0.1:9",  # nothing listens on the discard port
        market_data_deadline=0.5,
        market_data_retry_backoff=0.01,
    )
    with bootstrap(settings) as runtime:
        before = runtime.ledger.balances.get_balance(DEMO_USER)
        with pytest.raises(DependencyUnavailable):
            runtime.service.submit(
                SubmitOrder(
                    user_id=DEMO_USER,
                    symbol="AAPL",
                    order_type="MARKET",
                    order_side="BUY",
                    quantity="1",
                )
            )
        assert runtime.service.get_history(DEMO_USER).total_count == 0
        assert runtime.ledger.balances.get_balance(DEMO_USER) == before
