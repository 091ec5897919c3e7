"""A kafka-cluster trigger in function.yaml feeds a real broker's messages to the workers."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import orjson
import pytest
from confluent_kafka import ConsumerGroupState, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from tests.kafka.broker import KafkaBroker
from tests.kafka.fixtures import new_topic
from tests.serve_models import serve, wait_until, write_function_yaml

pytestmark = pytest.mark.integration


def group_ready(admin: AdminClient, group: str, members: int) -> bool:
    """The group is stable with ``members`` consumers, each holding partitions."""
    try:
        described = admin.describe_consumer_groups([group], request_timeout=5)[group].result()
    except Exception:
        return False
    return (
        described.state == ConsumerGroupState.STABLE
        and len(described.members) == members
        and all(m.assignment.topic_partitions for m in described.members)
    )


def committed(admin: AdminClient, group: str, topic: str, partitions: int) -> int:
    """The sum of the group's committed offsets on ``topic``."""
    from confluent_kafka import ConsumerGroupTopicPartitions

    request = ConsumerGroupTopicPartitions(
        group, [TopicPartition(topic, p) for p in range(partitions)]
    )
    result = admin.list_consumer_group_offsets([request], request_timeout=5)[group].result()
    return sum(max(tp.offset, 0) for tp in result.topic_partitions)


def test_kafka_trigger_runs_each_message_once_and_commits(
    kafka_brokers: KafkaBroker,
    tmp_path: Path,
) -> None:
    kafka_broker = kafka_brokers  # Kafka 4.1 and 3.9 in turn
    topic = new_topic(kafka_broker, f"serve-{uuid.uuid4().hex[:8]}", partitions=2)
    group = f"g-{uuid.uuid4().hex[:8]}"
    trigger = {
        "kind": "kafka-cluster",
        "attributes": {
            "brokers": [kafka_broker.bootstrap],
            "topics": [topic],
            "consumerGroup": group,
            "initialOffset": "earliest",
            "numWorkers": 1,
        },
    }
    spec = write_function_yaml(
        tmp_path / "function.yaml", {"e": "tests.serve_models.CountingEcho"}, {"k": trigger}
    )
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
    with serve(spec, workers=2) as served:
        # produce once both workers' consumers share the partitions: no rebalance replays
        wait_until(lambda: group_ready(admin, group, 2), 60, "both consumers in the group")
        producer = Producer({"bootstrap.servers": kafka_broker.bootstrap, "acks": "all"})
        for i in range(20):
            producer.produce(
                topic, key=str(i).encode(), value=orjson.dumps({"model": "e", "inputs": [i]})
            )
        assert producer.flush(30) == 0

        wait_until(lambda: len(served.calls_seen()) >= 20, 60, "20 handler calls")
        time.sleep(0.5)  # a 21st call (a duplicate) would show up now
        assert sorted(served.calls_seen(), key=lambda c: int(c[1:-1])) == [
            f"[{i}]" for i in range(20)
        ]
        wait_until(lambda: served.counted("", "stream") == 20, 10, "/metrics counting 20 events")
        wait_until(lambda: committed(admin, group, topic, 2) == 20, 30, "offsets committed")
        assert "answered" not in served.log.read_text()  # no error responses logged
