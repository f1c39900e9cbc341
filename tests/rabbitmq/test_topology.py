"""The service on a broker the monolith already uses: its queues declared with
exactly the monolith's arguments, left as they were; a different declaration
refused with a clear error; quorum queues on a fresh broker."""

from __future__ import annotations

import pika
import pytest

from order_adapters.rabbitmq import BrokerRefused, declare
from order_adapters.topology import PROCESSING_QUEUE, Topology
from tests.rabbitmq.conftest import Vhost

pytestmark = pytest.mark.rabbitmq


def _as_the_monolith_declares(vhost: Vhost) -> None:
    channel = vhost.channel()
    for queue in Topology.build().queues:
        if queue.shared:
            channel.queue_declare(queue.name, durable=True, arguments=dict(queue.arguments))
    channel.basic_publish(
        "", PROCESSING_QUEUE, b'{"from": "the monolith"}', pika.BasicProperties(delivery_mode=2)
    )


def test_starts_on_the_monolith_queues_and_leaves_them_as_they_were(vhost: Vhost) -> None:
    _as_the_monolith_declares(vhost)
    before = vhost.queues()

    declare(vhost.channel(), Topology.build())
    declare(vhost.channel(), Topology.build())  # and again, as every restart does

    after = vhost.queues()
    for name, queue in before.items():
        assert after[name] == queue, name
    added = set(after) - set(before)
    assert added == {"orders.events", *(t.queue for t in Topology.build().retry_tiers)}
    assert after["orders.retry.5m"]["arguments"] == {
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "orders.processing",
        "x-message-ttl": 300000,
    }


def test_a_queue_declared_otherwise_is_refused_by_name(vhost: Vhost) -> None:
    # Older deployments carried a TTL on the order queues.
    vhost.channel().queue_declare(
        PROCESSING_QUEUE, durable=True, arguments={"x-message-ttl": 60000}
    )
    with pytest.raises(BrokerRefused) as refused:
        declare(vhost.channel(), Topology.build())
    assert refused.value.reply_code == 406
    assert "orders.processing" in refused.value.message
    assert "x-message-ttl" in refused.value.message or "PRECONDITION" in refused.value.message


def test_a_fresh_broker_may_use_quorum_queues_with_a_delivery_limit(vhost: Vhost) -> None:
    declare(vhost.channel(), Topology.build(), queue_type="quorum", delivery_limit=7)
    queues = vhost.queues()
    for own in ("orders.events", "orders.retry.5m"):
        assert queues[own]["arguments"]["x-queue-type"] == "quorum"
        assert queues[own]["arguments"]["x-delivery-limit"] == 7
    # Shared queues keep the monolith's declaration whatever the setting says.
    assert "x-queue-type" not in queues[PROCESSING_QUEUE]["arguments"]
