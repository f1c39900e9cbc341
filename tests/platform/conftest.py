"""The platform suite (``suite/``) loads this service's generated stubs, whose
``hub_investments`` messages cannot share a process with the seed's stubs
that ``tests/grpc`` generates (protobuf's default descriptor pool refuses a
second, different ``common.proto``). Run alone, the suite is collected here;
in a session that also runs ``tests/grpc``, ``test_isolated.py`` runs it in a
child process instead. Without the ``grpc`` extra it is left out."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_SEED_TESTS = _HERE.parent / "grpc"


def shares_a_process_with_the_seed(config: pytest.Config) -> bool:
    for argument in config.args or [str(Path.cwd())]:
        path = Path(argument.split("::")[0]).resolve()
        if (
            path == _SEED_TESTS
            or path.is_relative_to(_SEED_TESTS)
            or _SEED_TESTS.is_relative_to(path)
        ):
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.resolve() != _HERE / "suite":
        return None
    if importlib.util.find_spec("grpc") is None:  # without the grpc extra
        return True
    return True if shares_a_process_with_the_seed(config) else None
