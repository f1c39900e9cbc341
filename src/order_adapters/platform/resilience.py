"""One resilience layer per platform service, built on the kept libraries: a
deadline on every call, stamina retries (jittered exponential backoff) on
UNAVAILABLE and DEADLINE_EXCEEDED only, and a pybreaker breaker that answers
at once while open. Every failure leaves as a core error, never a grpc one."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import grpc
import pybreaker
import stamina
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from order_adapters.deadlines import time_left
from order_core.errors import DependencyUnavailable

__all__ = ["TRANSIENT", "BadAnswer", "Guard", "GuardCollector", "GuardSettings", "Refused"]

_log = logging.getLogger("order_adapters.platform")
_T = TypeVar("_T")

#: The codes worth another attempt: nothing was decided by the peer.
TRANSIENT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
#: Answers that say the peer is fine and the request is not: they neither count
#: against the breaker nor get retried.
_ANSWERS = frozenset(
    {
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.OUT_OF_RANGE,
    }
)


class BadAnswer(DependencyUnavailable):
    """The peer answered something that cannot be true (a NaN or non-positive
    price, an empty symbol, text that is not a number): treated as the peer
    being unavailable, since nothing can be decided on it."""

    default_code = "DEPENDENCY_BAD_ANSWER"


class Refused(Exception):
    """A peer's definite answer (NOT_FOUND, INVALID_ARGUMENT, ...) that the
    client turns into a result or a core error itself."""

    def __init__(self, code: grpc.StatusCode, details: str, error: grpc.RpcError) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.error = error


def _log_retry(details: stamina.instrumentation.RetryDetails) -> None:
    _log.info(
        "retry %d of a platform call in %.2f s: %r",
        details.retry_num,
        details.wait_for,
        details.caused_by,
    )


def _instrument() -> None:
    """stamina's retries logged at INFO (its default hook warns, which a CLI
    prints for every retry), and counted by Prometheus."""
    hooks: list[stamina.instrumentation.RetryHook | stamina.instrumentation.RetryHookFactory] = [
        _log_retry,
        stamina.instrumentation.PrometheusOnRetryHook,
    ]
    stamina.instrumentation.set_on_retry_hooks(hooks)


_instrument()


def _code(error: BaseException) -> grpc.StatusCode | None:
    if isinstance(error, grpc.RpcError):
        code: grpc.StatusCode | None = error.code()
        return code
    return None


def _transient(error: Exception) -> bool:
    return _code(error) in TRANSIENT


def _an_answer(error: BaseException) -> bool:
    return _code(error) in _ANSWERS


@dataclass(frozen=True, slots=True)
class GuardSettings:
    deadline: float = 5.0
    attempts: int = 3
    backoff: float = 0.1
    breaker_failures: int = 5
    breaker_reset: float = 30.0


class Guard:
    """The deadline, retries and breaker of one service (``name``)."""

    def __init__(self, name: str, settings: GuardSettings) -> None:
        self.name = name
        self.settings = settings
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=settings.breaker_failures,
            reset_timeout=settings.breaker_reset,
            exclude=[_an_answer],
            name=name,
        )
        #: Calls made per method (every attempt counts), for tests and metrics.
        self.attempts: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open`` (pybreaker's names)."""
        return str(self.breaker.current_state)

    def call(self, method: str, send: Callable[[float], _T], *, retry: bool = True) -> _T:
        """``send(timeout)`` with the deadline, through the breaker, retried on
        UNAVAILABLE/DEADLINE_EXCEEDED when ``retry`` (reads and order-keyed
        movements, which a second call cannot repeat). Raises
        :class:`DependencyUnavailable` for a transient failure or an open
        breaker, :class:`Refused` for any other status."""
        settings = self.settings
        left = time_left()
        budget = settings.deadline if left is None else min(settings.deadline, left)
        if budget <= 0:
            raise DependencyUnavailable(self.name, "the caller's deadline has passed")
        try:
            for attempt in stamina.retry_context(
                on=_transient,
                attempts=settings.attempts if retry else 1,
                # All attempts and waits within the caller's time, if it set one.
                timeout=left,
                wait_initial=settings.backoff,
                wait_max=max(settings.backoff, 1.0),
                wait_jitter=settings.backoff,
            ):
                with attempt:
                    return self._attempt(method, send)
        except pybreaker.CircuitBreakerError:
            raise DependencyUnavailable(self.name, "circuit breaker is open") from None
        except grpc.RpcError as error:
            code = _code(error)
            details = str(error.details() or "")
            if code in TRANSIENT or code not in _ANSWERS:
                raise DependencyUnavailable(
                    self.name, f"{code.name if code else 'failed'}: {details}"
                ) from error
            assert code is not None
            raise Refused(code, details, error) from error
        raise AssertionError("unreachable: stamina runs at least one attempt")  # pragma: no cover

    def _attempt(self, method: str, send: Callable[[float], _T]) -> _T:
        with self._lock:
            self.attempts[method] += 1
        left = time_left()
        timeout = self.settings.deadline if left is None else min(self.settings.deadline, left)
        if timeout <= 0:
            raise DependencyUnavailable(self.name, "the caller's deadline has passed")
        with self.breaker.calling():  # not breaker.call(): it holds a lock for the whole call
            return send(timeout)


class GuardCollector:
    """The guards' state for Prometheus, read when scraped:
    ``orders_platform_breaker_state{service, state}`` (1 for the breaker's
    current state: closed, open or half-open) and
    ``orders_platform_calls_total{service, method}`` (every attempt)."""

    _STATES = ("closed", "open", "half-open")

    def __init__(self) -> None:
        self._guards: list[Guard] = []
        self._lock = threading.Lock()

    def add(self, guard: Guard) -> Guard:
        with self._lock:
            self._guards.append(guard)
        return guard

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            guards = list(self._guards)
        states = GaugeMetricFamily(
            "orders_platform_breaker_state",
            "The circuit breaker of each platform service: 1 for its current state.",
            labels=["service", "state"],
        )
        calls = CounterMetricFamily(
            "orders_platform_calls",
            "Calls made to each platform service, every attempt counted.",
            labels=["service", "method"],
        )
        for guard in guards:
            current = guard.state
            for state in self._STATES:
                states.add_metric([guard.name, state], 1.0 if state == current else 0.0)
            for method, count in sorted(guard.attempts.items()):
                calls.add_metric([guard.name, method], float(count))
        yield states
        yield calls
