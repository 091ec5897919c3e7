"""The test-suite Kafka broker (tests/kafka) is real: messages round-trip and survive a crash."""

from __future__ import annotations

import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient

from tests.kafka.broker import KafkaBroker, KafkaBrokerError
from tests.kafka.fixtures import new_topic

pytestmark = pytest.mark.integration


def _produce(bootstrap: str, topic: str, values: list[bytes], timeout: float = 30.0) -> None:
    errors: list[str] = []

    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            errors.append(str(err))

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
        }
    )
    for i, value in enumerate(values):
        producer.produce(topic, key=str(i).encode(), value=value, on_delivery=on_delivery)
        producer.poll(0)
    left = producer.flush(timeout)
    assert left == 0, f"{left} messages still undelivered after {timeout}s"
    assert errors == []


def _consume(bootstrap: str, topic: str, count: int, timeout: float = 60.0) -> list[bytes]:
    """Read ``count`` messages from the start of ``topic``, then make sure none follow."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    values: list[bytes] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(values) < count and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=500, timeout=1.0):
                err = msg.error()
                if err is not None:
                    assert err.code() == KafkaError._PARTITION_EOF, err
                    continue
                value = msg.value()
                assert value is not None
                values.append(value)
        assert len(values) == count, f"got {len(values)} of {count} messages in {timeout}s"
        extra = consumer.consume(num_messages=10, timeout=1.0)
        assert [m.value() for m in extra if m.error() is None] == []
    finally:
        consumer.close()
    return values


def test_produce_and_consume_1000(kafka_brokers: KafkaBroker) -> None:
    kafka_broker = kafka_brokers  # Kafka 4.1 and 3.9 in turn
    assert kafka_broker.bootstrap.startswith("127.0.0.1:")
    topic = new_topic(kafka_broker, f"roundtrip-{uuid.uuid4().hex[:8]}")
    sent = [f"message-{i}".encode() for i in range(1000)]

    _produce(kafka_broker.bootstrap, topic, sent)
    received = _consume(kafka_broker.bootstrap, topic, len(sent))

    assert received == sent  # one partition: exactly these, in order, no duplicates


def test_kill_and_restart_keeps_address_and_data(kafka_broker: KafkaBroker) -> None:
    bootstrap = kafka_broker.bootstrap
    topic = new_topic(kafka_broker, f"outage-{uuid.uuid4().hex[:8]}", partitions=2)
    before = [f"before-{i}".encode() for i in range(200)]
    _produce(bootstrap, topic, before)

    old_pid = kafka_broker.pid
    try:
        kafka_broker.kill()
        assert not kafka_broker.running
        assert kafka_broker.pid is None
        kafka_broker.restart()
    finally:
        kafka_broker.ensure_running()  # later tests share this broker

    assert kafka_broker.running
    assert kafka_broker.pid not in (None, old_pid)
    assert kafka_broker.bootstrap == bootstrap

    admin = AdminClient({"bootstrap.servers": bootstrap})
    assert topic in admin.list_topics(timeout=10).topics

    after = [f"after-{i}".encode() for i in range(200)]
    _produce(bootstrap, topic, after)
    received = _consume(bootstrap, topic, len(before) + len(after))
    assert sorted(received) == sorted(before + after)


def test_start_failure_reports_log_tail() -> None:
    broker = KafkaBroker(extra_properties={"num.io.threads": "not-a-number"}, start_timeout=30)
    with pytest.raises(KafkaBrokerError, match="formatting Kafka storage failed") as info:
        broker.start()
    assert "num.io.threads" in str(info.value)  # the log's tail names the bad setting
    assert not broker.running
    assert broker.workdir is None
