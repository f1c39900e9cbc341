"""The platform suite in a child process, when this session also runs the
seed's stubs (see ``conftest.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.platform.conftest import shares_a_process_with_the_seed

SUITE = Path(__file__).resolve().parent / "suite"


def test_the_platform_suite_passes_in_its_own_process(request: pytest.FixtureRequest) -> None:
    pytest.importorskip("grpc")
    if not shares_a_process_with_the_seed(request.config):
        pytest.skip("the suite is collected in this process")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(SUITE), "-q", "-p", "no:cacheprovider"],
        cwd=SUITE.parents[2],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
