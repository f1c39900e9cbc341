"""The documented embedding example runs and does what docs/library.md says."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "embed_in_memory.py"


def test_the_embedding_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "Waiting for the market to reach the limit price 149.5" in out
    assert "executed by the sweep: True" in out
    assert "cash 8510.00000000 AAPL held 15.00000000" in out
    assert "replayed: True True" in out
    assert "'code': 'INSUFFICIENT_BALANCE'" in out


ROOT = EXAMPLE.parents[2]


def python_blocks(document: str) -> list[str]:
    text = (ROOT / document).read_text(encoding="utf-8")
    return [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]


@pytest.mark.parametrize(
    ("document", "printed"),
    [
        ("README.md", "Waiting for the market to reach the limit price 185"),
        ("docs/configuration.md", "'database': 'in memory (nothing is kept after exit)'"),
    ],
)
def test_the_embedding_snippets_run(
    document: str,
    printed: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ORDERS_DATABASE_URL", "memory://")  # keep the run off the disk
    (snippet,) = python_blocks(document)

    exec(compile(snippet, document, "exec"), {})

    assert printed in capsys.readouterr().out
