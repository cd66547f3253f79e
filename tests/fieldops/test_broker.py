"""The configured django-q2 broker works: ORM by default, Redis when REDIS_URL is set."""

import uuid

import pytest
from django.conf import settings
from django_q.brokers import get_broker


@pytest.mark.django_db(transaction=True)
def test_configured_broker_takes_and_gives_back_a_task():
    broker = get_broker(list_key=f"fieldops-test-{uuid.uuid4().hex[:8]}")
    expected = "django_q.brokers.redis_broker.Redis" if settings.REDIS_URL else "django_q.brokers.orm.ORM"
    assert f"{type(broker).__module__}.{type(broker).__name__}" == expected
    assert broker.ping()
    try:
        broker.enqueue("payload-1")
        assert broker.queue_size() == 1
        tasks = broker.dequeue()
        payload = tasks[0][1]
        assert (payload.decode() if isinstance(payload, bytes) else payload) == "payload-1"
        broker.acknowledge(tasks[0][0])
    finally:
        broker.delete_queue()
