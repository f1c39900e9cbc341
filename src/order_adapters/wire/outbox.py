"""The outbox payload: one order event as a JSON document.

The document is the event's fields by name (see :mod:`order_adapters.wire.codec`
for how each value is written); its type travels beside it as the event's name
(``OrderSubmittedEvent`` and so on), in the outbox row's ``event_type``.
Payloads written by earlier versions, with decimals as text, are still read.
"""

from __future__ import annotations

from order_adapters.wire.codec import Document, converter
from order_core.events import EVENT_TYPES, OrderEvent, event_name

__all__ = ["event_from_document", "event_to_document"]


def event_to_document(event: OrderEvent) -> tuple[str, Document]:
    """The event's name and its fields as a document."""
    document: Document = converter.unstructure(event, type(event))
    return event_name(event), document


def event_from_document(event_type: str, document: Document) -> OrderEvent:
    """The event named ``event_type`` whose fields ``document`` holds."""
    event_class = EVENT_TYPES.get(event_type)
    if event_class is None:
        raise ValueError(f"unknown event type {event_type!r}")
    event: OrderEvent = converter.structure(document, event_class)
    return event
