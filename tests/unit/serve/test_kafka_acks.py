"""The ``nuserve serve`` consumer and explicit acks: commit once acked, deliver again if not."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import confluent_kafka
import nuclio_sdk
import pytest
import yaml

from nuserve.nuclio.stream_output import NO_ACK
from nuserve.serve import kafka
from nuserve.serve.kafka import Acks, KafkaTrigger, kafka_triggers
from tests.unit.serve.test_kafka import ATTRS, FakeConsumer, FakeMessage


class RewindingConsumer(FakeConsumer):
    """Seeking puts the message back at the head, as a real consumer fetches it again."""

    def seek(self, partition: confluent_kafka.TopicPartition) -> None:
        self.log.append(("seek", partition.offset))
        self.messages.insert(0, FakeMessage(f"m{partition.offset}".encode(), partition.offset))


def test_acks_record_stream_message_acks_only():
    acks = Acks()
    ack = nuclio_sdk.QualifiedOffset("in", 0, 5).compile_explicit_ack_message()
    asyncio.run(acks.control(ack))
    asyncio.run(acks.control({"kind": "somethingElse", "attributes": {}}))
    assert acks.take("in", 0, 5) and not acks.take("in", 0, 5) and not acks.take("in", 0, 6)


def run_consumer(monkeypatch: pytest.MonkeyPatch, handle: Any, count: int) -> list[tuple[str, Any]]:
    """Run one consumer over the three fake messages until ``count`` handler calls."""
    monkeypatch.setattr(confluent_kafka, "Consumer", RewindingConsumer)
    monkeypatch.setattr(kafka, "REDELIVERY", kafka.Backoff(first=0.01, ceiling=5.0))
    FakeConsumer.instances.clear()
    calls: list[int] = []
    acks = Acks()

    async def main() -> None:
        async def counted(event: Any) -> Any:
            calls.append(event.offset)
            return await handle(event, acks, calls)

        trigger = KafkaTrigger.from_attributes("k", ATTRS)
        loop = asyncio.get_running_loop()
        consumers = kafka.start_consumers([trigger], counted, loop, acks={"k": acks})
        deadline = time.monotonic() + 10
        while len(calls) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(kafka.stop_consumers, consumers, 10)

    asyncio.run(main())
    return [entry for entry in FakeConsumer.instances[0].log if entry[0] != "subscribe"]


def test_an_acked_no_ack_answer_is_committed(monkeypatch):
    async def handle(event: Any, acks: Acks, calls: list[int]) -> Any:
        platform = nuclio_sdk.Platform("local", on_control_callback=acks.control)
        await platform.explicit_ack(nuclio_sdk.QualifiedOffset.from_event(event))
        response = nuclio_sdk.Response(body=b"{}", status_code=200)
        response.ensure_no_ack()
        return response

    log = run_consumer(monkeypatch, handle, 3)
    assert log == [
        *[entry for i in range(3) for entry in (("store", i), ("commit", True))],
        ("commit", False),
        ("close", None),
    ]


def test_an_unacked_answer_is_delivered_again_and_nothing_after_it_is_committed(monkeypatch):
    async def handle(event: Any, acks: Acks, calls: list[int]) -> Any:
        response = nuclio_sdk.Response(body=b"{}", status_code=503)
        if calls.count(1) < 3 and event.offset == 1:
            response.ensure_no_ack()  # its output could not be written (twice)
        return response

    log = run_consumer(monkeypatch, handle, 5)
    assert log[:8] == [
        ("store", 0), ("commit", True),
        ("seek", 1), ("seek", 1),  # m1 again, twice; m2 waits behind it
        ("store", 1), ("commit", True),
        ("store", 2), ("commit", True),
    ]  # fmt: skip


def test_num_workers_is_read_where_nuclio_reads_it(tmp_path):
    doc = {
        "spec": {"triggers": {"k": {"kind": "kafka-cluster", "numWorkers": 3, "attributes": ATTRS}}}
    }
    path = tmp_path / "function.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert kafka_triggers(path)[0].num_workers == 3


def test_the_no_ack_header_is_the_sdks():
    response = nuclio_sdk.Response()
    response.ensure_no_ack()
    assert NO_ACK in response.headers


def test_session_timeout_and_heartbeat_are_go_durations():
    trigger = KafkaTrigger.from_attributes(
        "k", {**ATTRS, "sessionTimeout": "6s", "heartbeatInterval": "1.5s"}
    )
    config = trigger.consumer_config()
    assert (config["session.timeout.ms"], config["heartbeat.interval.ms"]) == (6000, 1500)
    assert "session.timeout.ms" not in KafkaTrigger.from_attributes("k", ATTRS).consumer_config()
    with pytest.raises(
        Exception, match="'sessionTimeout' must be a Go duration such as \"10s\" \\(got 10\\)"
    ):
        KafkaTrigger.from_attributes("k", {**ATTRS, "sessionTimeout": 10})
