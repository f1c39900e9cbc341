"""The backends every contract suite runs against.

Each module in ``tests/backends`` registers the backends it provides in its
``STORES`` and ``IDEMPOTENCY_STORES`` (name -> a context manager factory that
builds one and tears it down; a factory may take the pytest request to use
session fixtures). Every contract test then runs against each of them, so the
in-memory fakes and the real adapters cannot drift apart. A backend whose
server is down skips (or, under ORDERS_REQUIRE_SERVICES=1, fails) in its factory.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

import tests.backends
from order_core.ports import IdempotencyStore
from tests.backends.store import Store

STORES: dict[str, Callable[..., AbstractContextManager[Store]]] = {}
IDEMPOTENCY_STORES: dict[str, Callable[..., AbstractContextManager[IdempotencyStore]]] = {}
LEDGERS: dict[str, Callable[..., AbstractContextManager[Any]]] = {}
for _module in pkgutil.iter_modules(tests.backends.__path__):
    _backend = importlib.import_module(f"tests.backends.{_module.name}")
    STORES.update(getattr(_backend, "STORES", {}))
    IDEMPOTENCY_STORES.update(getattr(_backend, "IDEMPOTENCY_STORES", {}))
    LEDGERS.update(getattr(_backend, "LEDGERS", {}))


def _build(
    factory: Callable[..., AbstractContextManager[Any]], request: pytest.FixtureRequest
) -> AbstractContextManager[Any]:
    return factory(request) if inspect.signature(factory).parameters else factory()


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    with _build(STORES[request.param], request) as built:
        yield built


@pytest.fixture(params=sorted(IDEMPOTENCY_STORES))
def idempotency_store(request: pytest.FixtureRequest) -> Iterator[IdempotencyStore]:
    with _build(IDEMPOTENCY_STORES[request.param], request) as built:
        yield built


@pytest.fixture(params=sorted(LEDGERS))
def ledger(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A system of record with the simulated ledger attached
    (:class:`tests.backends.store.LedgerStore`)."""
    with _build(LEDGERS[request.param], request) as built:
        yield built
