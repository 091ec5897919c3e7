"""kafka-cluster triggers: reading them from function.yaml, and the consumer loop (faked)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import confluent_kafka
import nuclio_sdk
import pytest
import yaml

from nuserve.errors import ConfigError
from nuserve.serve import kafka
from nuserve.serve.kafka import KafkaTrigger, kafka_event, kafka_triggers

ATTRS = {"brokers": ["127.0.0.1:9092"], "topics": ["in"], "consumerGroup": "g"}


def test_triggers_are_read_from_function_yaml(tmp_path: Path) -> None:
    doc = {
        "spec": {
            "triggers": {
                "http": {"kind": "http", "attributes": {}},
                "k": {"kind": "kafka-cluster", "attributes": {**ATTRS, "numWorkers": 2}},
            }
        }
    }
    path = tmp_path / "function.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert kafka_triggers(path) == [
        KafkaTrigger("k", ("127.0.0.1:9092",), ("in",), "g", "earliest", 2)
    ]
    assert kafka_triggers(tmp_path / "spec.json") == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"topics": "in"}, "trigger 'k' (spec.triggers.k.attributes): 'topics' must be a list"),
        ({"brokers": []}, "'brokers' must be a list of strings (got [])"),
        ({"consumerGroup": None}, "'consumerGroup' must be a name (got None)"),
        ({"initialOffset": "newest"}, "'initialOffset' must be earliest or latest (got 'newest')"),
        ({"numWorkers": 0}, "'numWorkers' must be an integer >= 1 (got 0)"),
    ],
)
def test_bad_trigger_attributes_say_what_to_fix(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        KafkaTrigger.from_attributes("k", {**ATTRS, **change})
    assert message in str(info.value)


def test_brokers_may_be_a_comma_separated_string() -> None:
    trigger = KafkaTrigger.from_attributes("k", {**ATTRS, "brokers": "a:1, b:2"})
    assert trigger.brokers == ("a:1", "b:2")
    assert trigger.consumer_config()["bootstrap.servers"] == "a:1,b:2"
    assert trigger.consumer_config()["enable.auto.commit"] is False


class FakeMessage:
    def __init__(self, value: bytes, offset: int, partition: int = 0) -> None:
        self._value, self._offset, self._partition = value, offset, partition

    def topic(self) -> str:
        return "in"

    def value(self) -> bytes:
        return self._value

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def headers(self) -> list[tuple[str, bytes | None]]:
        return [("h", b"v"), ("empty", None)]

    def timestamp(self) -> tuple[int, int]:
        return (confluent_kafka.TIMESTAMP_CREATE_TIME, 1_700_000_000_000)

    def error(self) -> None:
        return None


def test_kafka_event_is_shaped_like_nuclios() -> None:
    event = kafka_event(
        FakeMessage(b'{"inputs": [1]}', 41, 3), nuclio_sdk.TriggerInfo("kafka-cluster", "k")
    )
    assert isinstance(event, nuclio_sdk.Event)
    assert event.body == b'{"inputs": [1]}'
    assert event.content_type == ""
    assert (event.trigger.kind, event.trigger.name) == ("kafka-cluster", "k")
    assert (event.path, event.topic, event.shard_id, event.offset) == ("in", "in", 3, 41)
    assert event.headers == {"h": b"v", "empty": None}
    assert event.timestamp == datetime(2023, 11, 14, 22, 13, 20)


class FakeConsumer:
    """Hands out its messages, then nothing; records every call in ``log``."""

    instances: list[FakeConsumer] = []

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.messages = [FakeMessage(f"m{i}".encode(), i) for i in range(3)]
        self.log: list[tuple[str, Any]] = []
        FakeConsumer.instances.append(self)

    def subscribe(self, topics: list[str]) -> None:
        self.log.append(("subscribe", topics))

    def poll(self, timeout: float) -> FakeMessage | None:
        if self.messages:
            return self.messages.pop(0)
        time.sleep(min(timeout, 0.01))
        return None

    def store_offsets(self, message: FakeMessage) -> None:
        self.log.append(("store", message.offset()))

    def commit(self, asynchronous: bool = True) -> None:
        self.log.append(("commit", asynchronous))

    def close(self) -> None:
        self.log.append(("close", None))


def test_offsets_are_committed_after_the_handler_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confluent_kafka, "Consumer", FakeConsumer)
    FakeConsumer.instances.clear()
    results: list[tuple[bytes, int]] = []

    async def main() -> None:
        async def handle(event: Any) -> Any:
            consumer = FakeConsumer.instances[0]
            consumer.log.append(("handle", event.offset))
            await asyncio.sleep(0.01)  # the consumer thread must wait for this
            status = 500 if event.offset == 1 else 200
            return nuclio_sdk.Response(body=b"{}", status_code=status)

        trigger = KafkaTrigger.from_attributes("k", ATTRS)
        consumers = kafka.start_consumers(
            [trigger],
            handle,
            asyncio.get_running_loop(),
            lambda e, r: results.append((e.body, r.status_code)),
        )
        deadline = time.monotonic() + 10
        while len(results) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(kafka.stop_consumers, consumers, 10)

    asyncio.run(main())
    assert results == [(b"m0", 200), (b"m1", 500), (b"m2", 200)]
    log = FakeConsumer.instances[0].log
    assert log == [
        ("subscribe", ["in"]),
        *[entry for i in range(3) for entry in (("handle", i), ("store", i), ("commit", True))],
        ("commit", False),
        ("close", None),
    ]
