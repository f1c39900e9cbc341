"""Fail if the running environment holds any distribution besides order-service
and the installer's own tools (run after a plain ``pip install .``)."""

from __future__ import annotations

import sys
from importlib.metadata import distributions

TOOLS = {"pip", "setuptools", "wheel", "order-service"}
extra = sorted(
    name
    for name in {dist.metadata["Name"].lower().replace("_", "-") for dist in distributions()}
    if name not in TOOLS
)
if extra:
    sys.exit(f"a plain install pulled in third-party packages: {', '.join(extra)}")
print("plain install: order_core with no third-party dependencies")
