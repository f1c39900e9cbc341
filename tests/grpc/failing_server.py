"""A server (run as its own process by test_robustness.py) whose core service
raises an unexpected exception on every SubmitOrder: the real
:class:`~order_adapters.grpc.server.OrderServer`, its stubs in a process of
their own (they would clash with the seed's in the tests' descriptor pool).

Imports nothing of the server at module level.
Prints ``serving <address>`` and serves until its stdin closes; logs to stderr."""

from __future__ import annotations

import dataclasses
import logging
import sys
from typing import TYPE_CHECKING, NoReturn, cast

if TYPE_CHECKING:
    from order_core.service import OrderService

#: In the exception's message: it must reach the log and never the wire.
SECRET_DETAIL = "boom: the database password is hunter2"


class _Exploding:
    """The core service with ``submit`` broken."""

    def __init__(self, wrapped: object) -> None:
        self._wrapped = wrapped

    def submit(self, _command: object) -> NoReturn:
        raise RuntimeError(SECRET_DETAIL)

    def __getattr__(self, name: str) -> object:
        return getattr(self._wrapped, name)


def main() -> None:
    # Imported here: the tests import SECRET_DETAIL, and the server's stubs must
    # not load beside the seed's.
    from order_adapters.bootstrap import bootstrap  # noqa: PLC0415
    from order_adapters.grpc.server import OrderServer  # noqa: PLC0415
    from order_adapters.settings import Settings  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    with bootstrap(Settings.of(database_url="memory://")) as runtime:
        broken = dataclasses.replace(
            runtime, service=cast("OrderService", _Exploding(runtime.service))
        )
        server = OrderServer(broken, listen="127.0.0.1:0", jwt_secret=None)
        server.start()
        print(f"serving {server.address}", flush=True)
        sys.stdin.read()
        server.stop(1.0)


if __name__ == "__main__":
    main()
