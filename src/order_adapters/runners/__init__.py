"""What runs on a wired :class:`~order_adapters.runtime.Runtime`: the in-process
processing of the embedded default (and, with their adapters, the relay, the
worker, servers and recovery). Wiring builds things; runners drive them."""

from order_adapters.runners.in_process import InProcessProcessing

__all__ = ["InProcessProcessing"]
