"""The Python client snippet of docs/grpc.md, run as written against ``orders serve``
(only the address is the test server's, and ``secret`` is the test's)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.grpc.conftest import SECRET, Seed, Served

DOC = Path(__file__).resolve().parents[2] / "docs" / "grpc.md"


def snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 1, "docs/grpc.md has one Python client snippet"
    return str(blocks[0])


def test_the_python_client_snippet_runs(
    seed: Seed, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    assert seed.pb.__name__ == "order_service_pb2"  # the snippet's import, on sys.path
    code = snippet()
    assert "127.0.0.1:50051" in code
    code = code.replace("127.0.0.1:50051", served.address)
    exec(compile(code, str(DOC), "exec"), {"secret": SECRET, "__name__": "snippet"})
    order_id, status = capsys.readouterr().out.split()
    assert re.fullmatch(r"[0-9a-f-]{36}", order_id)
    assert status in {"PENDING", "PROCESSING", "EXECUTED"}
