"""The use cases, one module each; :class:`order_core.OrderService` bundles them."""
