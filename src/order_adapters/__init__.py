"""order_adapters: implementations of ``order_core``'s ports, one subpackage per
technology, and the composition root that wires them from settings.

Importing this package imports nothing optional; each technology's subpackage
needs its extra (``pip install 'order-service[postgres]'`` and so on) and says
so when it is missing.
"""

__all__: list[str] = []
