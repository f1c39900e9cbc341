"""URLs in settings: their scheme, and their text without a password."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["redacted", "scheme_of"]


def scheme_of(url: str) -> str:
    """``postgresql`` for ``postgresql+psycopg://...``, ``memory`` for ``memory://``."""
    return url.partition(":")[0].partition("+")[0].strip().lower()


def redacted(url: str) -> str:
    """The URL with its password, if any, shown as ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL at all: nothing to hide that we can find
        return url
    if password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
