"""Stream triggers under ``nuserve serve`` with output and error topics, on a real broker.

Input topic → ``nuserve serve`` → output topic; poison messages → error topic; and a consumer
SIGKILLed mid-stream that, restarted, delivers again what it had not committed.
"""

from __future__ import annotations

import base64
import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

import nuserve
from tests.kafka.broker import KafkaBroker
from tests.kafka.fixtures import new_topic
from tests.serve_models import CountingEcho, serve, wait_until

pytestmark = pytest.mark.integration
Message = tuple[bytes | None, bytes, dict[str, bytes]]


class SlowEcho(CountingEcho):
    """CountingEcho taking 20 ms per message, so a kill lands mid-stream."""

    def predict(self, request: dict[str, Any]) -> Any:
        time.sleep(0.02)
        return super().predict(request)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def stream_function(
    directory: Path, bootstrap: str, topic: str, group: str, output: str,
    errors: str | None = None, explicit_ack: bool = False, model: type = CountingEcho,
) -> Path:  # fmt: skip
    """A function.yaml (``fn.to_yaml``) consuming ``topic`` and writing answers to ``output``."""
    fn = nuserve.new_function("streamer")
    fn.add_model("e", class_name=model)
    fn.spec.output_stream = f"kafka://{bootstrap}?topic={output}"
    if errors is not None:
        fn.spec.error_stream = f"kafka://{bootstrap}?topic={errors}"
    fn.add_kafka_trigger(
        "k", brokers=bootstrap, topics=topic, consumer_group=group, explicit_ack=explicit_ack,
        extra_attributes={"sessionTimeout": "6s", "heartbeatInterval": "1s"},
    )  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    fn.to_yaml(directory / "function.yaml")
    return directory / "function.yaml"


def produce(bootstrap: str, topic: str, messages: list[tuple[str, bytes]]) -> None:
    """Each ``(id, value)`` with the id in an ``X-Request-Id`` header; waits for the broker."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for request_id, value in messages:
        producer.produce(topic, value, headers=[("X-Request-Id", request_id.encode())])
    assert producer.flush(30) == 0


def read_topic(
    bootstrap: str, topic: str, enough: Callable[[list[Message]], bool], timeout: float = 60
) -> list[Message]:
    """The topic's messages from the start, read until ``enough`` says so (or the timeout)."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": unique("reader"),
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    })  # fmt: skip
    consumer.subscribe([topic])
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while not enough(got) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                got.append((message.key(), message.value(), dict(message.headers() or [])))
    finally:
        consumer.close()
    return got


def committed(bootstrap: str, group: str, topic: str) -> int:
    """The group's committed offset on partition 0 of ``topic`` (0 when none)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0)])
    result = admin.list_consumer_group_offsets([request], request_timeout=10)[group].result()
    return max(result.topic_partitions[0].offset, 0)


def infer(i: int) -> bytes:
    return orjson.dumps({"model": "e", "inputs": [i]})


def test_n_messages_in_n_answers_out_each_matching_its_input(
    kafka_brokers: KafkaBroker,
    tmp_path: Path,
) -> None:
    kafka_broker = kafka_brokers  # Kafka 4.1 and 3.9 in turn
    bootstrap, n = kafka_broker.bootstrap, 40
    topic, output, group = new_topic(kafka_broker, unique("in")), unique("out"), unique("g")
    new_topic(kafka_broker, output)
    spec = stream_function(tmp_path, bootstrap, topic, group, output, explicit_ack=True)
    produce(bootstrap, topic, [(f"req-{i}", infer(i)) for i in range(n)])
    with serve(spec, workers=1):
        answers = read_topic(bootstrap, output, lambda got: len(got) >= n)
        wait_until(lambda: committed(bootstrap, group, topic) == n, 30, "all offsets acked")
    assert len(answers) == n
    for key, value, headers in answers:
        body = orjson.loads(value)
        i = int(body["outputs"][0])
        assert key == f"req-{i}".encode() and headers["X-Request-Id"] == key
        assert (body["id"], body["model_name"]) == (f"req-{i}", "e")
    assert sorted(int(orjson.loads(v)["outputs"][0]) for _, v, _ in answers) == list(range(n))


def test_poison_messages_go_to_the_error_topic_and_the_next_is_served(
    kafka_brokers: KafkaBroker,
    tmp_path: Path,
) -> None:
    kafka_broker = kafka_brokers  # Kafka 4.1 and 3.9 in turn
    bootstrap = kafka_broker.bootstrap
    topic, output, errors, group = (unique(p) for p in ("in", "out", "err", "g"))
    for name in (topic, output, errors):
        new_topic(kafka_broker, name)
    spec = stream_function(tmp_path, bootstrap, topic, group, output, errors)
    poison = [
        ("p-bytes", b"\xff\xfe not json"),
        ("p-text", b"hello, not json"),
        ("p-model", b'{"model": "nope", "inputs": [1]}'),
    ]
    produce(bootstrap, topic, [*poison, ("good", infer(7))])
    with serve(spec, workers=1):
        letters = read_topic(bootstrap, errors, lambda got: len(got) >= 3)
        answers = read_topic(bootstrap, output, lambda got: len(got) >= 1)
        wait_until(lambda: committed(bootstrap, group, topic) == 4, 30, "all four committed")
    records = [orjson.loads(value) for _, value, _ in letters]
    assert [(r["id"], r["status"], r["topic"], r["partition"], r["offset"]) for r in records] == [
        ("p-bytes", 400, topic, 0, 0), ("p-text", 400, topic, 0, 1), ("p-model", 404, topic, 0, 2),
    ]  # fmt: skip
    assert records[0]["payload_encoding"] == "base64"
    assert base64.b64decode(records[0]["payload"]) == b"\xff\xfe not json"
    assert records[1]["payload"] == "hello, not json" and "payload_encoding" not in records[1]
    assert records[2]["payload"] == '{"model": "nope", "inputs": [1]}'
    assert all(r["error"].startswith("request body is not valid JSON") for r in records[:2])
    assert "nope" in records[2]["error"]
    ((key, value, _),) = answers
    assert key == b"good" and orjson.loads(value)["outputs"] == [7]


def test_a_consumer_killed_mid_stream_delivers_the_rest_again(
    kafka_broker: KafkaBroker,
    tmp_path: Path,
) -> None:
    bootstrap, n = kafka_broker.bootstrap, 150
    topic, output, group = new_topic(kafka_broker, unique("in")), unique("out"), unique("g")
    new_topic(kafka_broker, output)

    def function_yaml(directory: Path) -> Path:  # each run its own loads/calls files
        return stream_function(directory, bootstrap, topic, group, output, model=SlowEcho)

    produce(bootstrap, topic, [(f"m{i}", infer(i)) for i in range(n)])
    with serve(function_yaml(tmp_path / "first"), workers=1) as served:
        wait_until(lambda: len(served.calls_seen()) >= 40, 60, "40 messages handled")
        os.kill(served.process.pid, signal.SIGKILL)
        served.process.wait(10)
    time.sleep(1)  # a commit the process sent just before dying is in by now
    at_kill, handled_before = committed(bootstrap, group, topic), len(served.calls_seen())
    assert 0 < at_kill < n, f"the kill must land mid-stream (committed {at_kill} of {n})"

    ids = {f"m{i}" for i in range(n)}
    with serve(function_yaml(tmp_path / "second"), workers=1) as again:
        answers = read_topic(
            bootstrap, output, lambda got: ids <= {k.decode() for k, _, _ in got}, timeout=90
        )
        wait_until(lambda: committed(bootstrap, group, topic) == n, 30, "all committed")
        handled_after = len(again.calls_seen())
    seen: dict[str, int] = {}
    for key, value, _ in answers:
        assert key is not None and orjson.loads(value)["id"] == key.decode()
        seen[key.decode()] = seen.get(key.decode(), 0) + 1
    assert not sorted(ids - set(seen)), f"never answered: {sorted(ids - set(seen))}"
    assert all(count >= 1 for count in seen.values()) and len(answers) >= n
    # the restart resumed at the last commit: what was handled but not committed ran again,
    # and only that is answered twice
    assert handled_after == n - at_kill
    assert sum(seen.values()) - n <= handled_before - at_kill
