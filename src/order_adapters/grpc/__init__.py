"""The platform's gRPC ``hub_investments.OrderService`` over :class:`~order_core.OrderService`
(the ``grpc`` extra): protos in ``protos/``, stubs in ``generated/``, the
server in :mod:`order_adapters.grpc.server` (docs/grpc.md)."""
