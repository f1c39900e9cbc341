"""``orders load --target grpc://HOST:PORT``: drive a running OrderService as the
gateway does (tokens, idempotency keys), then check every receipt it got back.

Open loop (``--rate`` for ``--duration``): requests leave on a fixed schedule
whatever the server does, and each latency is counted from when its request
was due, so a server that slows down cannot hide it behind fewer requests.
Closed loop (``--concurrency`` callers, one request at a time each): what the
server sustains.

Afterwards the generator keeps **a ledger of its own**: a call whose outcome is
unknown (deadline, connection lost) is sent again with the same key, as a
careful client would; every acknowledged order is then looked up until it is
terminal or resting, a sample of keys is sent again (one key, one order), and
anything lost, duplicated or left in flight is counted.
"""

from __future__ import annotations

import contextlib
import functools
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import grpc

from order_adapters.grpc.generated import order_service_pb2 as pb
from order_adapters.grpc.generated import order_service_pb2_grpc as pb_grpc

__all__ = ["LoadPlan", "TargetLoad", "mint_token"]

#: Statuses an order ends in; a PENDING order that is not MARKET is resting.
TERMINAL = frozenset({"EXECUTED", "FAILED", "CANCELLED"})
#: Codes whose outcome is unknown: the order may or may not have been stored.
_UNKNOWN = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL}
)
_CHECKERS = 16


def mint_token(user_id: str, secret: str, *, lifetime: float = 3600.0) -> str:
    """A token as the platform's user service mints it (HS256, userId, exp)."""
    import jwt  # noqa: PLC0415  # the grpc extra; only this mode needs it

    claims = {"userId": user_id, "username": f"load{user_id}@example.com"}
    claims["exp"] = int(time.time() + lifetime)  # type: ignore[assignment]
    return str(jwt.encode(claims, secret, algorithm="HS256"))


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What to send: one request per entry, each with its own key."""

    requests: Sequence[pb.SubmitOrderRequest]
    tokens: dict[str, str]  # platform user id -> token
    deadline: float = 5.0


@dataclass(slots=True)
class _Sent:
    request: pb.SubmitOrderRequest
    due: float
    latency: float | None = None
    order_id: str | None = None
    refused: str | None = None
    unknown: bool = False


@dataclass(slots=True)
class _Tally:
    sent: list[_Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class TargetLoad:
    """One load run against the OrderService at ``address``."""

    def __init__(self, address: str, plan: LoadPlan) -> None:
        self._channel = grpc.insecure_channel(
            address, options=[("grpc.max_concurrent_streams", 1000)]
        )
        self._stub = pb_grpc.OrderServiceStub(self._channel)
        self._plan = plan
        self._tally = _Tally()

    def close(self) -> None:
        self._channel.close()

    def _metadata(self, user_id: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self._plan.tokens[user_id]}"),)

    # -- sending -----------------------------------------------------------------

    def open_loop(self, rate: float, on_sent: Callable[[], None]) -> float:
        """Send every request at ``rate`` per second; seconds it took."""
        began = time.perf_counter()
        pending: list[Any] = []
        for index, request in enumerate(self._plan.requests):
            due = began + index / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sent = _Sent(request, due)
            future = self._stub.SubmitOrder.future(
                request, timeout=self._plan.deadline, metadata=self._metadata(request.user_id)
            )
            future.add_done_callback(functools.partial(self._record, sent))
            pending.append(future)
            on_sent()
        for future in pending:
            with contextlib.suppress(grpc.RpcError, grpc.FutureTimeoutError):
                future.result(timeout=self._plan.deadline + 5)  # recorded by its callback
        return time.perf_counter() - began

    def closed_loop(self, concurrency: int, on_sent: Callable[[], None]) -> float:
        """``concurrency`` callers, each waiting for its answer before the next."""
        began = time.perf_counter()
        requests = iter(self._plan.requests)
        lock = threading.Lock()

        def caller() -> None:
            while True:
                with lock:
                    request = next(requests, None)
                if request is None:
                    return
                sent = _Sent(request, time.perf_counter())
                try:
                    response = self._stub.SubmitOrder(
                        request,
                        timeout=self._plan.deadline,
                        metadata=self._metadata(request.user_id),
                    )
                except grpc.RpcError as error:
                    self._note(sent, None, error)
                else:
                    self._note(sent, response, None)
                on_sent()

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for running in [pool.submit(caller) for _ in range(concurrency)]:
                running.result()
        return time.perf_counter() - began

    def _record(self, sent: _Sent, future: Any) -> None:
        try:
            response = future.result()
        except grpc.RpcError as error:
            self._note(sent, None, error)
        else:
            self._note(sent, response, None)

    def _note(
        self, sent: _Sent, response: pb.SubmitOrderResponse | None, error: grpc.RpcError | None
    ) -> None:
        sent.latency = time.perf_counter() - sent.due
        if response is not None:
            sent.order_id = response.order_id
        elif error is not None and error.code() in _UNKNOWN:
            sent.unknown = True
        else:
            code = error.code().name if error is not None else "UNKNOWN"
            sent.refused = code
        with self._tally.lock:
            self._tally.sent.append(sent)

    # -- the ledger --------------------------------------------------------------

    def resend_unknown(self, patience: float = 60.0) -> int:
        """Send each request whose outcome is unknown again, same key, backing
        off up to ``patience`` seconds in all (a breaker may be open a while);
        how many turned out acknowledged."""
        resolved = 0
        give_up = time.monotonic() + patience
        for sent in [s for s in self._tally.sent if s.unknown]:
            pause = 0.2
            while time.monotonic() < give_up:
                try:
                    response = self._stub.SubmitOrder(
                        sent.request,
                        timeout=self._plan.deadline,
                        metadata=self._metadata(sent.request.user_id),
                    )
                except grpc.RpcError as error:
                    if error.code() not in _UNKNOWN:
                        sent.unknown, sent.refused = False, error.code().name
                        break
                    time.sleep(pause)
                    pause = min(2.0, pause * 2)
                else:
                    sent.unknown, sent.order_id = False, response.order_id
                    resolved += 1
                    break
        return resolved

    def settle(self, timeout: float, on_checked: Callable[[int], None]) -> dict[str, Any]:
        """Look every acknowledged order up until it is terminal or resting (or
        ``timeout`` passes): statuses, how long execution took, and what is
        lost (acknowledged, then not found) or still in flight."""
        acked = [s for s in self._tally.sent if s.order_id is not None]
        final: dict[str, Any] = {}
        lost: set[str] = set()
        waiting = list(acked)
        give_up = time.monotonic() + timeout
        with ThreadPoolExecutor(max_workers=_CHECKERS) as pool:
            while waiting and time.monotonic() < give_up:
                looked = list(pool.map(self._details, waiting))
                still = []
                for sent, (details, missing) in zip(waiting, looked, strict=True):
                    assert sent.order_id is not None
                    if missing:
                        lost.add(sent.order_id)
                    elif details is not None and _settled(details):
                        final[sent.order_id] = details
                    else:
                        still.append(sent)
                on_checked(len(waiting) - len(still))
                waiting = still
                if waiting:
                    time.sleep(0.25)
        statuses = Counter(
            "RESTING" if details.status == "PENDING" else details.status
            for details in final.values()
        )
        execution = [
            (_time(d.executed_at) - _time(d.created_at)).total_seconds()
            for d in final.values()
            if d.status == "EXECUTED" and d.HasField("executed_at")
        ]
        return {
            "statuses": dict(sorted(statuses.items())),
            "in_flight": len(waiting),
            "lost": sorted(lost),
            "execution": execution,
        }

    def _details(self, sent: _Sent) -> tuple[pb.OrderDetails | None, bool]:
        assert sent.order_id is not None
        user = sent.request.user_id
        try:
            response = self._stub.GetOrderDetails(
                pb.GetOrderDetailsRequest(order_id=sent.order_id, user_id=user),
                timeout=self._plan.deadline,
                metadata=self._metadata(user),
            )
        except grpc.RpcError as error:
            return None, error.code() is grpc.StatusCode.NOT_FOUND
        return response.order, False

    def one_key_one_order(self, sample: int) -> tuple[int, int]:
        """Send ``sample`` acknowledged requests again with their keys: (checked,
        answered with another order). Distinct keys sharing an order count too."""
        acked = [s for s in self._tally.sent if s.order_id is not None]
        step = max(1, len(acked) // max(sample, 1))
        mismatched = 0
        checked = 0
        for sent in acked[::step][:sample]:
            try:
                again = self._stub.SubmitOrder(
                    sent.request,
                    timeout=self._plan.deadline,
                    metadata=self._metadata(sent.request.user_id),
                )
            except grpc.RpcError:
                continue  # not an answer either way
            checked += 1
            mismatched += again.order_id != sent.order_id
        shared = len(acked) - len({s.order_id for s in acked})
        return checked, mismatched + shared

    def report(self) -> dict[str, Any]:
        sent = self._tally.sent
        latencies = [s.latency for s in sent if s.latency is not None and s.order_id]
        refused = Counter(s.refused for s in sent if s.refused)
        return {
            "requests": len(self._plan.requests),
            "answered": len(sent),
            "acknowledged": sum(1 for s in sent if s.order_id),
            "refused": dict(sorted(refused.items())),
            "unknown_outcome": sum(1 for s in sent if s.unknown),
            "latency_ms": percentiles(latencies),
        }


def _settled(details: pb.OrderDetails) -> bool:
    return details.status in TERMINAL or (
        details.status == "PENDING" and details.order_type != "MARKET"
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99, p99.9 and max, in milliseconds (zeros when empty)."""
    if not seconds:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "p99.9": 0.0, "max": 0.0}
    cuts = (
        statistics.quantiles(seconds, n=1000, method="inclusive")
        if len(seconds) > 1
        else list(seconds) * 999
    )

    def at(fraction: float) -> float:
        return round(cuts[round(fraction * 1000) - 1] * 1000, 2)

    return {
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "p99.9": at(0.999),
        "max": round(max(seconds) * 1000, 2),
    }


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]


# -- the command ----------------------------------------------------------------------


def load_target(
    *,
    target: str,
    count: int,
    concurrency: int,
    rate: float | None,
    settle_timeout: float,
    seed: int | None,
    users: int,
    market_only: bool,
    as_json: bool,
) -> None:
    """``orders load --target``: accounts and prices come from this CLI's own
    settings (the server's database, simulated ledger and market)."""
    import random  # noqa: PLC0415

    import click  # noqa: PLC0415
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # noqa: PLC0415

    from order_adapters.user_ids import service_user_id  # noqa: PLC0415
    from order_cli.load_orders import open_accounts, random_orders  # noqa: PLC0415
    from order_cli.output import Printer  # noqa: PLC0415
    from order_cli.state import state  # noqa: PLC0415

    scheme, _, address = target.partition("://")
    if scheme != "grpc" or ":" not in address:
        raise click.BadParameter("must be grpc://HOST:PORT", param_hint="--target")
    cli_state = state()
    secret = cli_state.settings().grpc.jwt_secret
    if not secret:
        raise click.UsageError(
            "--target needs the server's token secret: set ORDERS_JWT_SECRET "
            "(or ORDERS_GRPC_JWT_SECRET) as the server has it"
        )
    runtime = cli_state.runtime()
    chooser = random.Random(seed)
    # Platform user ids are integers; a seed has its own accounts.
    first = 800_000_000 + (seed or 0) % 1000 * 1000
    platform_ids = [str(first + n) for n in range(users)]
    by_uuid = {service_user_id(user): user for user in platform_ids}
    open_accounts(runtime, list(by_uuid))
    commands = random_orders(runtime, chooser, list(by_uuid), count, market_only=market_only)
    requests = [
        pb.SubmitOrderRequest(
            user_id=by_uuid[command.user_id],  # type: ignore[index]
            symbol=str(command.symbol),
            order_type=str(command.order_type),
            order_side=str(command.order_side),
            quantity=float(str(command.quantity)),
            price=None if command.price is None else float(str(command.price)),
            stop_price=None if command.stop_price is None else float(str(command.stop_price)),
            idempotency_key=command.idempotency_key,
        )
        for command in commands
    ]
    tokens = {user: mint_token(user, secret) for user in platform_ids}
    generator = TargetLoad(address, LoadPlan(requests, tokens))
    console = Console(stderr=True)
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            disable=as_json,
            transient=True,
        ) as progress:
            sending = progress.add_task("submitting", total=count)

            def advance() -> None:
                progress.advance(sending)

            if rate is not None:
                seconds = generator.open_loop(rate, advance)
            else:
                seconds = generator.closed_loop(concurrency, advance)
            resolved = generator.resend_unknown()
            report = generator.report()
            checking = progress.add_task("checking", total=report["acknowledged"])
            settled = generator.settle(
                settle_timeout, lambda done: progress.advance(checking, done)
            )
            checked, duplicated = generator.one_key_one_order(100)
    finally:
        generator.close()
    lost = len(settled["lost"])
    document = {
        "target": target,
        "mode": "open" if rate is not None else "closed",
        "rate": rate,
        "concurrency": None if rate is not None else concurrency,
        "seconds": round(seconds, 3),
        "orders_per_second": round(report["answered"] / seconds, 1) if seconds else 0.0,
        **report,
        "resolved_by_resending": resolved,
        "statuses": settled["statuses"],
        "execution_ms": percentiles(settled["execution"]),
        "ledger": {
            "acknowledged": report["acknowledged"],
            "lost": lost,
            "duplicated": duplicated,
            "in_flight": settled["in_flight"],
            "keys_resent": checked,
            "lost_orders": settled["lost"][:20],
        },
    }
    _print(Printer(as_json), document)
    if lost or duplicated or settled["in_flight"]:
        raise SystemExit(1)


def _print(out: Any, document: dict[str, Any]) -> None:
    if out.as_json:
        out.json(document)
        return
    latency, ledger = document["latency_ms"], document["ledger"]
    out.line(
        f"{document['answered']} answered in {document['seconds']:.2f} s "
        f"({document['orders_per_second']:,.1f}/s, {document['mode']} loop): "
        f"{document['acknowledged']} acknowledged, {sum(document['refused'].values())} refused, "
        f"{document['unknown_outcome']} unknown"
    )
    out.line(
        "submit latency: " + ", ".join(f"{name} {value:.2f} ms" for name, value in latency.items())
    )
    execution = document["execution_ms"]
    out.line(
        f"executed after acceptance: p50 {execution['p50']:.2f} ms, "
        f"p99 {execution['p99']:.2f} ms, max {execution['max']:.2f} ms"
    )
    out.rows("How they ended", ["status", "orders"], sorted(document["statuses"].items()))
    out.line(
        f"ledger: {ledger['acknowledged']} acknowledged, {ledger['lost']} lost, "
        f"{ledger['duplicated']} duplicated, {ledger['in_flight']} still in flight "
        f"({ledger['keys_resent']} keys sent again)"
    )
