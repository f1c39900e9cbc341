"""What every gRPC server of the package does the same way: serve health and
reflection beside its services, and listen where it is told or say clearly
why it cannot."""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from order_adapters.settings import SettingsError

__all__ = ["listen_on", "serve_health_and_reflection"]


def serve_health_and_reflection(
    server: grpc.Server, services: Iterable[str]
) -> health.HealthServicer:
    """Add the health service and reflection of ``services`` (full names) to
    ``server``; the health servicer, to set each service's status."""
    checks = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    names = (
        *services,
        health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
        reflection.SERVICE_NAME,
    )
    reflection.enable_server_reflection(names, server)
    return checks


def listen_on(server: grpc.Server, listen: str, *, setting: str | None) -> tuple[int, str]:
    """Bind ``server`` to ``listen`` (``HOST:PORT``, port 0 for any free one):
    the port and the address it listens on. A port in use is a
    :class:`SettingsError` naming ``setting``, not a crash."""
    try:
        port = server.add_insecure_port(listen)
    except RuntimeError:  # grpc's "Failed to bind" (it returned 0 before 1.60)
        port = 0
    if port == 0:
        raise SettingsError(
            f"cannot listen on {listen}: the port is in use, or the address is not this machine's",
            setting=setting,
        )
    return port, f"{listen.rpartition(':')[0]}:{port}"
