"""The token check: a verified token is remembered, never past its expiry."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from order_adapters.grpc.identity import Authenticator, Unauthenticated
from tests.grpc.conftest import SECRET, mint


def test_a_remembered_token_still_expires_on_time(monkeypatch: pytest.MonkeyPatch) -> None:
    authenticator = Authenticator(SECRET)
    expires = int(time.time()) + 2
    token = jwt.encode({"userId": 42, "exp": expires}, SECRET, algorithm="HS256")
    decoded: list[str] = []
    decode = jwt.decode

    def counted(*args: Any, **kwargs: Any) -> Any:
        decoded.append(args[0])
        return decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)

    first = authenticator.user_of(f"Bearer {token}")
    assert authenticator.user_of(f"Bearer {token}") == first
    assert decoded == [token]  # verified once, then remembered

    while time.time() < expires:
        time.sleep(0.05)
    with pytest.raises(Unauthenticated, match="expired"):
        authenticator.user_of(f"Bearer {token}")


def test_a_remembered_token_is_not_a_way_around_the_signature() -> None:
    authenticator = Authenticator(SECRET)
    good = mint("7")
    authenticator.user_of(f"Bearer {good}")
    forged = mint("8", secret="another-secret-of-at-least-32-bytes-long")
    with pytest.raises(Unauthenticated, match="invalid token"):
        authenticator.user_of(f"Bearer {forged}")
    with pytest.raises(Unauthenticated, match="invalid token"):
        authenticator.user_of(f"Bearer {forged}")  # a refusal is not remembered as a user
    other = Authenticator("yet-another-secret-of-at-least-32-bytes")
    with pytest.raises(Unauthenticated, match="invalid token"):
        other.user_of(f"Bearer {good}")  # remembered per secret, by the one that checked it
