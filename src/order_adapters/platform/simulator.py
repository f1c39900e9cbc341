"""``orders simulate``: the platform's MarketDataService, BalanceService and
PositionService served from the simulated market and ledger of a
bootstrapped runtime (the state ``orders market`` and ``orders account``
show), with health, reflection and a control service that makes it slow,
failing or unimplemented for tests and demos (docs/platform.md).

Money movements are keyed by the order: the simulator keeps, per order, which
movements are applied and what each moved, so the same call twice moves money
once and ``ReverseBalance`` undoes exactly one. That journal lives in the
simulator's memory (a restart forgets it); the platform's own service would
keep it in the balance's transaction.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import grpc
from grpc_health.v1 import health_pb2

from order_adapters.grpc.errors import abort_unexpected, abort_with
from order_adapters.grpc.generated import balance_service_pb2 as balance_pb
from order_adapters.grpc.generated import balance_service_pb2_grpc as balance_grpc
from order_adapters.grpc.generated import common_pb2
from order_adapters.grpc.generated import market_data_service_pb2 as market_pb
from order_adapters.grpc.generated import market_data_service_pb2_grpc as market_grpc
from order_adapters.grpc.generated import position_service_pb2 as position_pb
from order_adapters.grpc.generated import position_service_pb2_grpc as position_grpc
from order_adapters.grpc.generated import simulator_control_pb2 as control_pb
from order_adapters.grpc.generated import simulator_control_pb2_grpc as control_grpc
from order_adapters.grpc.hosting import listen_on, serve_health_and_reflection
from order_adapters.platform.assets import category_number
from order_adapters.runtime import Runtime
from order_adapters.user_ids import platform_user_id, service_user_id
from order_core.decimals import add, format_decimal, parse_decimal
from order_core.errors import InvalidInput, OrderError
from order_core.values import Symbol

__all__ = ["MOVEMENTS", "SERVICES", "Faults", "SimulatorServer"]

_log = logging.getLogger("order_adapters.platform")
_R = TypeVar("_R")
_ZERO = Decimal(0)
MARKET, BALANCE, POSITION = (
    "hub_investments.MarketDataService",
    "hub_investments.BalanceService",
    "hub_investments.PositionService",
)
SERVICES = (MARKET, BALANCE, POSITION)
MOVEMENTS = ("RESERVE", "RELEASE", "DEDUCT", "CREDIT")


@dataclass(slots=True)
class _Fault:
    delay: float = 0.0
    code: grpc.StatusCode | None = None
    #: Calls left to fail (None: every call).
    left: int | None = None


@dataclass(slots=True)
class Faults:
    """What the simulator is told to do wrong, per service. Thread-safe."""

    by_service: dict[str, _Fault] = field(default_factory=lambda: {s: _Fault() for s in SERVICES})
    asset_details_unimplemented: bool = False
    float32_prices: bool = False
    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, service: str, delay: float, code: grpc.StatusCode | None, count: int) -> None:
        with self.lock:
            # Named in full ("hub_investments.MarketDataService") or not.
            named = service if "." in service else f"hub_investments.{service}"
            for name in SERVICES if service in {"", "*"} else (named,):
                if name not in self.by_service:
                    raise InvalidInput(f"no service {name!r}", field="service", value=name)
                self.by_service[name] = _Fault(delay, code, count or None)

    def enter(self, service: str, method: str, context: grpc.ServicerContext) -> None:
        """Count the call, then delay and/or fail it as told."""
        with self.lock:
            self.calls[method] += 1
            fault = self.by_service[service]
            code = fault.code
            if code is not None and fault.left is not None:
                fault.left -= 1
                if fault.left <= 0:
                    fault.code = fault.left = None
            delay = fault.delay
        if delay > 0:
            time.sleep(delay)
        if code is not None:
            context.abort(code, f"simulated {code.name}")


def _float32(value: float) -> float:
    """What a value becomes through a 32-bit float (123.45 -> 123.44999694824219)."""
    rounded: float = struct.unpack("f", struct.pack("f", value))[0]
    return rounded


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _api(message: str, code: int = 200) -> common_pb2.APIResponse:
    return common_pb2.APIResponse(
        success=True, message=message, code=code, timestamp=int(time.time())
    )


def _guarded(context: grpc.ServicerContext, method: str, body: Callable[[], _R]) -> _R:
    """Errors as the order service's server answers them (its one table)."""
    try:
        return body()
    except OrderError as error:
        abort_with(context, error)
    except Exception as error:
        if _aborted(context):  # context.abort() set the status, then raised
            raise
        abort_unexpected(context, method, error)


def _aborted(context: grpc.ServicerContext) -> bool:
    code = getattr(context, "code", None)  # ServicerContext.code(): grpcio 1.38 and later
    return callable(code) and code() is not None


def _symbol(raw: str, context: grpc.ServicerContext) -> Symbol:
    """The deployed service's answers for a missing or malformed symbol."""
    if not raw.strip():
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "symbol is required")
    try:
        return Symbol.parse(raw)
    except InvalidInput:
        context.abort(grpc.StatusCode.NOT_FOUND, f"symbol {raw} not found")
    raise AssertionError("abort raises")  # pragma: no cover


class _MarketData(market_grpc.MarketDataServiceServicer):
    def __init__(self, runtime: Runtime, faults: Faults) -> None:
        self._market = runtime.market
        self._faults = faults

    def _data(self, symbol: Symbol) -> market_pb.MarketData | None:
        listing = self._market.listing(symbol)  # one read, not one per field
        if listing is None:
            return None
        asset, quote, market_open = listing
        price = float(quote.price)
        return market_pb.MarketData(
            symbol=symbol,
            company_name=asset.name,
            current_price=_float32(price) if self._faults.float32_prices else price,
            last_updated=_rfc3339(quote.timestamp),
            category=category_number(asset.category),
            market_open=market_open,
        )

    def GetMarketData(  # noqa: N802  # the proto's names
        self, request: market_pb.GetMarketDataRequest, context: grpc.ServicerContext
    ) -> market_pb.GetMarketDataResponse:
        self._faults.enter(MARKET, "GetMarketData", context)

        def body() -> market_pb.GetMarketDataResponse:
            symbol = _symbol(request.symbol, context)
            data = self._data(symbol)
            if data is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"symbol {symbol} not found")
            return market_pb.GetMarketDataResponse(api_response=_api("ok"), market_data=data)

        return _guarded(context, "GetMarketData", body)

    def GetAssetDetails(  # noqa: N802
        self, request: market_pb.GetAssetDetailsRequest, context: grpc.ServicerContext
    ) -> market_pb.GetAssetDetailsResponse:
        self._faults.enter(MARKET, "GetAssetDetails", context)
        if self._faults.asset_details_unimplemented:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")

        def body() -> market_pb.GetAssetDetailsResponse:
            symbol = _symbol(request.symbol, context)
            asset = self._market.get_asset(symbol)
            if asset is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"symbol {symbol} not found")
            details = market_pb.AssetDetails(
                symbol=symbol, company_name=asset.name, currency="USD", exchange="SIMULATED"
            )
            return market_pb.GetAssetDetailsResponse(api_response=_api("ok"), asset=details)

        return _guarded(context, "GetAssetDetails", body)

    def GetBatchMarketData(  # noqa: N802
        self, request: market_pb.GetBatchMarketDataRequest, context: grpc.ServicerContext
    ) -> market_pb.GetBatchMarketDataResponse:
        self._faults.enter(MARKET, "GetBatchMarketData", context)

        def body() -> market_pb.GetBatchMarketDataResponse:
            found = []
            for raw in request.symbols:
                try:
                    data = self._data(Symbol.parse(raw))
                except InvalidInput:
                    continue  # an unknown symbol is left out, as a batch does
                if data is not None:
                    found.append(data)
            return market_pb.GetBatchMarketDataResponse(api_response=_api("ok"), market_data=found)

        return _guarded(context, "GetBatchMarketData", body)


@dataclass(slots=True)
class _OrderMoney:
    user_id: UUID
    #: movement -> (cash change, reserved change) it applied.
    applied: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)

    @property
    def held(self) -> Decimal:
        held = _ZERO
        for _, reserved in self.applied.values():
            held = add(held, reserved)
        return held


class _Balances(balance_grpc.BalanceServiceServicer):
    def __init__(self, runtime: Runtime, faults: Faults) -> None:
        self._runtime = runtime
        self._faults = faults
        self._journal: dict[UUID, _OrderMoney] = {}
        self._lock = threading.Lock()  # one movement at a time: the journal and the ledger agree

    def _user(self, raw: str, context: grpc.ServicerContext) -> UUID:
        if not raw.strip():
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "user_id is required")
        user = service_user_id(raw)
        if not self._runtime.ledger.has_account(user):
            context.abort(grpc.StatusCode.NOT_FOUND, f"user {raw} not found")
        return user

    def GetBalance(  # noqa: N802
        self, request: balance_pb.GetBalanceRequest, context: grpc.ServicerContext
    ) -> balance_pb.GetBalanceResponse:
        self._faults.enter(BALANCE, "GetBalance", context)

        def body() -> balance_pb.GetBalanceResponse:
            user = self._user(request.user_id, context)
            balance = self._runtime.ledger.balances.get_balance(user)
            return balance_pb.GetBalanceResponse(
                api_response=_api("ok"),
                balance=balance_pb.Balance(
                    user_id=platform_user_id(user),
                    available_balance=float(balance.available),
                    total_balance=float(balance.cash),
                    reserved_balance=float(balance.reserved),
                    currency="USD",
                    last_updated=_rfc3339(datetime.now(UTC)),
                ),
            )

        return _guarded(context, "GetBalance", body)

    @contextmanager
    def _ledger(self, user: UUID) -> Iterator[Any]:
        """The simulated ledger in one committed transaction of the runtime's database."""
        with self._runtime.database.unit_of_work() as uow:
            uow.orders.lock_user(user)
            yield uow.ledger
            uow.commit()

    def _move(
        self,
        movement: str,
        request: balance_pb.MoneyMovementRequest,
        context: grpc.ServicerContext,
    ) -> balance_pb.MoneyMovementResponse:
        method = f"{movement.title()}Balance"
        self._faults.enter(BALANCE, method, context)

        def body() -> balance_pb.MoneyMovementResponse:
            user = self._user(request.user_id, context)
            order_id = _order_id(request.order_id, context)
            amount = _ZERO
            if movement != "RELEASE":
                amount = parse_decimal(request.amount, field="amount")
                if amount <= 0:
                    raise InvalidInput("amount must be positive", field="amount")
            with self._lock:
                money = self._journal.setdefault(order_id, _OrderMoney(user))
                if money.user_id != user:
                    context.abort(grpc.StatusCode.FAILED_PRECONDITION, "order of another user")
                applied = movement not in money.applied
                if applied:
                    held = money.held
                    with self._ledger(user) as ledger:
                        if movement == "RESERVE":
                            ledger.hold(user, order_id, amount)
                            change = (_ZERO, amount)
                        elif movement == "RELEASE":
                            ledger.release(user, order_id, held)
                            change = (_ZERO, held.copy_negate())
                        else:
                            paid = amount.copy_negate() if movement == "DEDUCT" else amount
                            ledger.settle(user, order_id, paid=paid, held=held)
                            change = (paid, held.copy_negate())
                    money.applied[movement] = change
            return self._answer(user, applied)

        return _guarded(context, method, body)

    def _answer(self, user: UUID, applied: bool) -> balance_pb.MoneyMovementResponse:
        balance = self._runtime.ledger.balances.get_balance(user)
        return balance_pb.MoneyMovementResponse(
            api_response=_api("applied" if applied else "already applied"),
            applied=applied,
            cash=format_decimal(balance.cash),
            reserved=format_decimal(balance.reserved),
        )

    def ReserveBalance(  # noqa: N802
        self, request: balance_pb.MoneyMovementRequest, context: grpc.ServicerContext
    ) -> balance_pb.MoneyMovementResponse:
        return self._move("RESERVE", request, context)

    def ReleaseBalance(  # noqa: N802
        self, request: balance_pb.MoneyMovementRequest, context: grpc.ServicerContext
    ) -> balance_pb.MoneyMovementResponse:
        return self._move("RELEASE", request, context)

    def DeductBalance(  # noqa: N802
        self, request: balance_pb.MoneyMovementRequest, context: grpc.ServicerContext
    ) -> balance_pb.MoneyMovementResponse:
        return self._move("DEDUCT", request, context)

    def CreditBalance(  # noqa: N802
        self, request: balance_pb.MoneyMovementRequest, context: grpc.ServicerContext
    ) -> balance_pb.MoneyMovementResponse:
        return self._move("CREDIT", request, context)

    def ReverseBalance(  # noqa: N802
        self, request: balance_pb.ReverseBalanceRequest, context: grpc.ServicerContext
    ) -> balance_pb.MoneyMovementResponse:
        self._faults.enter(BALANCE, "ReverseBalance", context)

        def body() -> balance_pb.MoneyMovementResponse:
            user = self._user(request.user_id, context)
            order_id = _order_id(request.order_id, context)
            if request.movement not in MOVEMENTS:
                raise InvalidInput(
                    f"movement must be one of {', '.join(MOVEMENTS)}",
                    field="movement",
                    value=request.movement,
                )
            with self._lock:
                money = self._journal.get(order_id)
                change = None if money is None else money.applied.get(request.movement)
                if change is not None:
                    cash, reserved = change
                    with self._ledger(user) as ledger:
                        # The inverse of (cash, reserved): cash -= cash, reserved -= reserved.
                        ledger.settle(user, order_id, paid=cash.copy_negate(), held=reserved)
                    assert money is not None
                    del money.applied[request.movement]
            return self._answer(user, change is not None)

        return _guarded(context, "ReverseBalance", body)

    def GetOrderMovements(  # noqa: N802
        self, request: balance_pb.GetOrderMovementsRequest, context: grpc.ServicerContext
    ) -> balance_pb.GetOrderMovementsResponse:
        self._faults.enter(BALANCE, "GetOrderMovements", context)
        order_id = _order_id(request.order_id, context)
        with self._lock:
            money = self._journal.get(order_id)
            if money is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"order {order_id} moved nothing")
            return balance_pb.GetOrderMovementsResponse(
                api_response=_api("ok"),
                user_id=platform_user_id(money.user_id),
                movements=sorted(money.applied),
                held=format_decimal(money.held),
            )


def _order_id(raw: str, context: grpc.ServicerContext) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "order_id must be a UUID")
    raise AssertionError("abort raises")  # pragma: no cover


class _Positions(position_grpc.PositionServiceServicer):
    def __init__(self, runtime: Runtime, faults: Faults) -> None:
        self._runtime = runtime
        self._faults = faults

    def GetPositions(  # noqa: N802
        self, request: position_pb.GetPositionsRequest, context: grpc.ServicerContext
    ) -> position_pb.GetPositionsResponse:
        self._faults.enter(POSITION, "GetPositions", context)

        def body() -> position_pb.GetPositionsResponse:
            if not request.user_id.strip():
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "user_id is required")
            user = service_user_id(request.user_id)
            holdings = self._runtime.ledger.holdings(user)
            wanted = Symbol.parse(request.symbol) if request.HasField("symbol") else None
            now = _rfc3339(datetime.now(UTC))
            positions = [
                position_pb.Position(
                    position_id=f"{user}:{symbol}",
                    user_id=platform_user_id(user),
                    symbol=symbol,
                    quantity=float(quantity),
                    position_type="LONG",
                    status="ACTIVE",
                    created_at=now,
                    updated_at=now,
                )
                for symbol, quantity in sorted(holdings.items())
                if wanted is None or symbol == wanted
            ]
            return position_pb.GetPositionsResponse(api_response=_api("ok"), positions=positions)

        return _guarded(context, "GetPositions", body)


class _Control(control_grpc.SimulatorControlServicer):
    def __init__(self, faults: Faults) -> None:
        self._faults = faults

    def SetFaults(  # noqa: N802
        self, request: control_pb.Faults, context: grpc.ServicerContext
    ) -> control_pb.FaultsReply:
        def body() -> control_pb.FaultsReply:
            faults = self._faults
            code = grpc.StatusCode.OK
            if request.fail_code:
                code = next((c for c in grpc.StatusCode if c.value[0] == request.fail_code), code)
            faults.set(
                request.service,
                max(0.0, request.delay_seconds),
                None if code is grpc.StatusCode.OK else code,
                max(0, request.fail_count),
            )
            faults.asset_details_unimplemented = request.asset_details_unimplemented
            faults.float32_prices = request.float32_prices
            with faults.lock:
                return control_pb.FaultsReply(calls=dict(faults.calls))

        return _guarded(context, "SetFaults", body)


class SimulatorServer:
    """The three platform services, health, reflection and the control
    service, over ``runtime``'s simulated market and ledger."""

    def __init__(
        self, runtime: Runtime, *, listen: str, faults: Faults | None = None, workers: int = 16
    ) -> None:
        self.runtime = runtime
        self.faults = faults or Faults()
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simulate"),
            maximum_concurrent_rpcs=workers * 4,
        )
        market_grpc.add_MarketDataServiceServicer_to_server(
            _MarketData(runtime, self.faults), self._server
        )
        balance_grpc.add_BalanceServiceServicer_to_server(
            _Balances(runtime, self.faults), self._server
        )
        position_grpc.add_PositionServiceServicer_to_server(
            _Positions(runtime, self.faults), self._server
        )
        control_grpc.add_SimulatorControlServicer_to_server(_Control(self.faults), self._server)
        self.health = serve_health_and_reflection(
            self._server,
            (*SERVICES, control_pb.DESCRIPTOR.services_by_name["SimulatorControl"].full_name),
        )
        self.port, self.address = listen_on(self._server, listen, setting=None)

    def start(self) -> None:
        self._server.start()
        for service in ("", *SERVICES):
            self.health.set(service, health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace: float = 5.0) -> None:
        self.health.enter_graceful_shutdown()
        self._server.stop(grace).wait(grace + 1)
