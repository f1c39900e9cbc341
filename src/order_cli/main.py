"""Entry point of the ``orders`` command (filled in by the CLI work)."""

from __future__ import annotations

import sys


def main() -> None:
    sys.exit("orders: the command line is not built yet")
