"""Every public error class carries the category its callers react to."""

from __future__ import annotations

from uuid import UUID

import pytest

import order_core.errors
from order_core import (
    ConcurrencyConflict,
    DependencyUnavailable,
    ErrorCategory,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    IdempotencyRecordExists,
    IllegalTransition,
    InsufficientBalance,
    InsufficientPosition,
    InvalidInput,
    OrderAccessDenied,
    OrderError,
    OrderNotCancellable,
    OrderNotFound,
    OrderRejected,
    OrderStateError,
    RiskRejected,
    ValidationRejected,
)

CATEGORIES: dict[type[OrderError], ErrorCategory] = {
    InvalidInput: ErrorCategory.INVALID_INPUT,
    OrderRejected: ErrorCategory.REJECTED,
    ValidationRejected: ErrorCategory.REJECTED,
    RiskRejected: ErrorCategory.REJECTED,
    InsufficientBalance: ErrorCategory.REJECTED,
    InsufficientPosition: ErrorCategory.REJECTED,
    OrderNotFound: ErrorCategory.NOT_FOUND,
    OrderAccessDenied: ErrorCategory.FORBIDDEN,
    OrderStateError: ErrorCategory.WRONG_STATE,
    IllegalTransition: ErrorCategory.WRONG_STATE,
    OrderNotCancellable: ErrorCategory.WRONG_STATE,
    IdempotencyKeyReused: ErrorCategory.WRONG_STATE,
    ConcurrencyConflict: ErrorCategory.CONFLICT,
    IdempotencyInProgress: ErrorCategory.CONFLICT,
    IdempotencyRecordExists: ErrorCategory.CONFLICT,
    DependencyUnavailable: ErrorCategory.UNAVAILABLE,
    # The base is raised only for refusals without a class of their own.
    OrderError: ErrorCategory.REJECTED,
}


@pytest.mark.parametrize(("error_class", "category"), CATEGORIES.items())
def test_each_error_class_has_its_category(
    error_class: type[OrderError], category: ErrorCategory
) -> None:
    assert error_class.category is category


def test_every_public_error_class_is_listed() -> None:
    public = {
        value
        for name in order_core.errors.__all__
        if isinstance(value := getattr(order_core.errors, name), type)
        and issubclass(value, OrderError)
    }
    assert public == set(CATEGORIES)


def test_an_instance_reports_its_class_category() -> None:
    assert OrderNotFound(UUID(int=1)).category is ErrorCategory.NOT_FOUND
    error = DependencyUnavailable("database", "connection refused")
    assert error.category is ErrorCategory.UNAVAILABLE
    assert error.category == "UNAVAILABLE"  # a StrEnum: usable as text
