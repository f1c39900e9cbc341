"""Who calls: the platform's token (HS256, ``userId`` and ``exp`` claims,
``Bearer <jwt>`` in ``authorization``), checked by a server interceptor on
every OrderService call, and the platform's user ids.

User ids are UUIDs here and integers on the platform: an integer ``n`` is the
UUID ``00000000-0000-0000-0000-<n as 12 digits>`` on the way in and ``n`` again
on the way out (docs/contracts.md, "Tokens and user ids")."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import grpc
import jwt
from cachetools import TTLCache

from order_adapters.user_ids import service_user_id
from order_core.errors import InvalidInput

__all__ = [
    "Authenticator",
    "IdentityInterceptor",
    "caller",
]

_CALLER: contextvars.ContextVar[UUID | None] = contextvars.ContextVar("caller", default=None)


def caller() -> UUID | None:
    """The authenticated user of the call being served (None without authentication)."""
    return _CALLER.get()


class Unauthenticated(Exception):
    """The call carries no valid token; the message says why (never the token)."""


class Authenticator:
    """Verifies the platform's tokens with its shared secret. A client sends
    one token with every call until it expires: a token verified here is
    remembered (its user and ``exp``) for a minute, so the HMAC and the JSON
    are not redone per call (8% of a submission's CPU); its expiry is still
    checked on every call."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._verified: TTLCache[str, tuple[UUID, float]] = TTLCache(maxsize=4096, ttl=60)
        self._lock = threading.Lock()

    def user_of(self, authorization: str | None) -> UUID:
        if not authorization:
            raise Unauthenticated("missing authorization metadata")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("authorization must be 'Bearer <token>'")
        with self._lock:
            known = self._verified.get(token)
        if known is not None:
            user, expires = known
            if expires > time.time():  # PyJWT's rule: expired once exp <= now
                return user
            raise Unauthenticated("token expired")
        user, expires = self._verify(token)
        with self._lock:
            self._verified[token] = (user, expires)
        return user

    def _verify(self, token: str) -> tuple[UUID, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={"require": ["exp", "userId"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"invalid token: {error}") from None
        user = claims.get("userId")
        if isinstance(user, int) and not isinstance(user, bool):
            user = str(user)
        if not isinstance(user, str):
            raise Unauthenticated("invalid token: userId must be text")
        try:
            return service_user_id(user, field="userId"), float(claims["exp"])
        except InvalidInput:
            raise Unauthenticated("invalid token: userId is not a user id") from None


def _metadata(details: grpc.HandlerCallDetails, key: str) -> str | None:
    for name, value in details.invocation_metadata or ():
        if name == key:
            return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return None


class IdentityInterceptor(grpc.ServerInterceptor):
    """Checks the token of every call to the services in ``protected`` (health and
    reflection stay open); the handler reads the user with :func:`caller`."""

    def __init__(self, authenticator: Authenticator, protected: tuple[str, ...]) -> None:
        self._authenticator = authenticator
        self._prefixes = tuple(f"/{service}/" for service in protected)

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        method = handler_call_details.method or ""
        if handler is None or not method.startswith(self._prefixes):
            return handler
        behaviour = handler.unary_unary
        if behaviour is None:
            return handler
        try:
            user: UUID | None = self._authenticator.user_of(
                _metadata(handler_call_details, "authorization")
            )
            refusal = ""
        except Unauthenticated as error:
            user, refusal = None, str(error)

        def checked(request: Any, context: grpc.ServicerContext) -> Any:
            if user is None:
                context.abort(grpc.StatusCode.UNAUTHENTICATED, refusal)
            token = _CALLER.set(user)
            try:
                return behaviour(request, context)
            finally:
                _CALLER.reset(token)

        return grpc.unary_unary_rpc_method_handler(
            checked,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
