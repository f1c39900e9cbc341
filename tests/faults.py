"""Fault injection: a unit-of-work factory whose chosen step crashes (raises,
or runs something in between) so tests can count what a crash at that point
loses, duplicates or leaves unbalanced.

Steps are named ``<part>.<method>`` (``ledger.settle``, ``orders.update``,
``idempotency.put``, ``outbox.add``) or ``commit``; ``before`` runs the fault
instead of the step, ``after`` once the step has run (a commit that reached the
database but whose answer was lost).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from order_core.ports import UnitOfWork, UnitOfWorkFactory


class Crash(Exception):
    """What an injected fault raises by default: the process "dies" here."""


@dataclass
class Fault:
    step: str
    when: str  # "before" or "after"
    action: Callable[[], None]
    remaining: int = 1


@dataclass
class FaultyUnitsOfWork:
    """A :class:`UnitOfWorkFactory` around ``inner`` with faults armed on it."""

    inner: UnitOfWorkFactory
    faults: list[Fault] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    def arm(
        self,
        step: str,
        *,
        when: str = "before",
        action: Callable[[], None] | None = None,
        times: int = 1,
    ) -> None:
        def crash() -> None:
            raise Crash(f"crash {when} {step}")

        self.faults.append(Fault(step, when, action or crash, times))

    def __call__(self) -> UnitOfWork:
        return _Unit(self, self.inner())

    def fire(self, step: str, when: str) -> None:
        if when == "before":
            self.seen.append(step)
        for fault in self.faults:
            if fault.step == step and fault.when == when and fault.remaining:
                fault.remaining -= 1
                fault.action()


class _Part:
    def __init__(self, faults: FaultyUnitsOfWork, name: str, inner: Any) -> None:
        self._faults, self._name, self._inner = faults, name, inner

    def __getattr__(self, method: str) -> Any:
        target = getattr(self._inner, method)
        if not callable(target):
            return target
        step = f"{self._name}.{method}"

        def call(*args: Any, **kwargs: Any) -> Any:
            self._faults.fire(step, "before")
            result = target(*args, **kwargs)
            self._faults.fire(step, "after")
            return result

        return call


class _Unit:
    def __init__(self, faults: FaultyUnitsOfWork, inner: UnitOfWork) -> None:
        self._faults, self._inner = faults, inner

    @property
    def orders(self) -> Any:
        return _Part(self._faults, "orders", self._inner.orders)

    @property
    def outbox(self) -> Any:
        return _Part(self._faults, "outbox", self._inner.outbox)

    @property
    def idempotency(self) -> Any:
        return _Part(self._faults, "idempotency", self._inner.idempotency)

    @property
    def ledger(self) -> Any:
        return _Part(self._faults, "ledger", self._inner.ledger)

    @property
    def inbox(self) -> Any:
        return _Part(self._faults, "inbox", self._inner.inbox)

    def commit(self) -> None:
        self._faults.fire("commit", "before")
        self._inner.commit()
        self._faults.fire("commit", "after")

    def rollback(self) -> None:
        self._inner.rollback()

    def __enter__(self) -> _Unit:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._inner.__exit__(*exc)
