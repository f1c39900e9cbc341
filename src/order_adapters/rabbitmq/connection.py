"""Connecting to RabbitMQ with deadlines, and the one table that turns pika's
errors into the library's.

Every network step has a deadline: the TCP connect and each socket read or
write (``socket_timeout``), the AMQP handshake (``stack_timeout``), a broker
that blocks publishers for lack of memory or disk (``blocked_connection_timeout``)
and a peer gone silent (``heartbeat``). A connection, a lost connection, a
timeout or a blocked broker is :class:`~order_core.errors.DependencyUnavailable`
("broker"): transient, the caller backs off and reconnects. A broker that
refuses what we ask of it (a queue declared with other arguments, a missing
exchange, a permission) is :class:`BrokerRefused`: configuration, not weather.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pika
import pika.exceptions as pe

from order_adapters.urls import redacted
from order_core.errors import DependencyUnavailable, ErrorCategory, OrderError

__all__ = ["BrokerRefused", "connect", "translate", "translated"]

#: Seconds between heartbeats unless the URL says otherwise; a peer silent for
#: two of them is gone.
HEARTBEAT = 30


class BrokerRefused(OrderError):
    """RabbitMQ refused an operation for good: a queue that exists with other
    arguments (406), an exchange or queue that does not exist (404), an access
    the user lacks (403). Fix the broker or the settings; retrying changes nothing."""

    default_code = "BROKER_REFUSED"
    category = ErrorCategory.WRONG_STATE

    def __init__(self, reply_code: int, reply_text: str) -> None:
        super().__init__(f"RabbitMQ refused ({reply_code}): {reply_text}", value=reply_code)
        self.reply_code = reply_code
        self.reply_text = reply_text


def _unavailable(error: BaseException) -> OrderError:
    text = str(error).strip() or type(error).__name__
    return DependencyUnavailable("broker", f"{type(error).__name__}: {text}")


def _refused(error: BaseException) -> OrderError:
    assert isinstance(error, pe.ChannelClosedByBroker | pe.ConnectionClosedByBroker)
    if isinstance(error, pe.ConnectionClosedByBroker) and error.reply_code in (320, 0):
        # 320 CONNECTION_FORCED: an operator (close_all_connections) or a restart.
        return _unavailable(error)
    return BrokerRefused(error.reply_code, error.reply_text)


#: Driver error -> the library's error, first match wins (most specific first).
_TABLE: tuple[tuple[type[BaseException], Any], ...] = (
    (pe.ProbableAuthenticationError, lambda e: BrokerRefused(403, f"authentication: {e}")),
    (pe.ProbableAccessDeniedError, lambda e: BrokerRefused(403, f"access denied: {e}")),
    (pe.ChannelClosedByBroker, _refused),
    (pe.ConnectionClosedByBroker, _refused),
    (pe.AMQPConnectionError, _unavailable),  # lost, refused, blocked, timed out
    (pe.AMQPChannelError, _unavailable),  # closed by us or with the connection
    (pe.AMQPError, _unavailable),
    (socket.timeout, _unavailable),
    (OSError, _unavailable),
)


def translate(error: BaseException) -> OrderError | None:
    """The library's error for a pika (or socket) error; None for anything else."""
    if isinstance(error, OrderError):
        return error
    for kind, make in _TABLE:
        if isinstance(error, kind):
            made: OrderError = make(error)
            return made
    return None


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise pika's errors as the library's (``raise ... from``)."""
    try:
        yield
    except OrderError:
        raise
    except Exception as error:
        translation = translate(error)
        if translation is None:
            raise
        raise translation from error


def parameters(url: str, *, timeout: float, name: str) -> pika.URLParameters:
    """The URL's parameters with a deadline on every step (the URL's own
    ``heartbeat`` and ``socket_timeout`` query options win)."""
    params = pika.URLParameters(url)
    query = url.partition("?")[2]
    if "socket_timeout" not in query:
        params.socket_timeout = timeout
    if "heartbeat" not in query:
        params.heartbeat = HEARTBEAT
    params.stack_timeout = timeout
    params.blocked_connection_timeout = timeout
    params.connection_attempts = 1
    params.client_properties = {"connection_name": name, "product": "order-service"}
    return params


def connect(url: str, *, timeout: float, name: str) -> pika.BlockingConnection:
    """A connection to the broker at ``url``; DependencyUnavailable if it cannot
    be reached within ``timeout`` seconds, BrokerRefused for bad credentials or
    vhost."""
    try:
        return pika.BlockingConnection(parameters(url, timeout=timeout, name=name))
    except Exception as error:
        translation = translate(error)
        if translation is None:
            raise
        if isinstance(translation, DependencyUnavailable):
            translation = DependencyUnavailable("broker", f"cannot reach {redacted(url)}")
        raise translation from error
