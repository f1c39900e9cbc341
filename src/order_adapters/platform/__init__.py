"""Clients of the platform's own services over gRPC (the ``grpc`` extra):
``MarketDataService``, ``BalanceService`` (with the order-keyed money movements
this service adds) and ``PositionService``, behind the core's ports, each call
with a deadline, retries, a breaker and, for asset properties, a cache; and
the simulator that serves them (``orders simulate``). See docs/platform.md."""
