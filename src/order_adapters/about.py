"""What is installed, for ``orders info`` and bug reports."""

from __future__ import annotations

import platform
from importlib import metadata

from order_core import __version__

__all__ = ["versions"]

_REPORTED = ("sqlalchemy", "alembic", "psycopg", "redis", "msgspec", "click")


def versions() -> dict[str, str]:
    """Versions worth reporting: the service, Python and the drivers present."""
    found = {"order-service": __version__, "python": platform.python_version()}
    for distribution in _REPORTED:
        try:
            found[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return found
