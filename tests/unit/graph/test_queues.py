"""Queue steps, streams, and the flow of each function when a queue splits a flow."""

from __future__ import annotations

import json
import logging
import sys
import types

import pytest

from nuserve import ConfigError, NotReady
from nuserve.graph import (
    FlowBuilder,
    FlowSpec,
    StepSpec,
    child_trigger,
    memory_stream,
    split_by_function,
)
from nuserve.graph.queues import open_queue
from nuserve.streams.kafka import PRODUCER_DEFAULTS, KafkaStream
from nuserve.streams.v3io import V3ioSettings, V3ioStream
from tests.unit.graph.flow_steps import Add, Catcher, Double, Trace
from tests.unit.graph.harness import build, run


def split_graph(path="memory://orders") -> FlowBuilder:
    graph = FlowBuilder()
    graph.to(Add, name="enrich").respond().to(">>", "q", path=path)
    graph["q"].to(Double, name="score", function="scorer").to(Trace, name="store")
    graph.error_handler(Catcher)
    return graph


def test_memory_queue_publishes_json_and_passes_the_body_on():
    stream = memory_stream("orders")
    stream.messages.clear()
    flow = build(split_graph())
    assert run(flow, {"x": 1}).body == {"x": 2}
    assert run(flow, {"x": 5}).body == {"x": 6}
    assert [json.loads(m) for m in stream.messages] == [{"x": 2}, {"x": 6}]
    flow.close()


def test_split_by_function_starts_the_child_after_the_queue():
    parts = split_by_function(split_graph().spec, main="parent")
    assert list(parts) == ["parent", "scorer"]
    parent, child = parts["parent"], parts["scorer"]
    assert [(s.name, s.after, s.function) for s in parent] == [
        ("enrich", [], None), ("q", ["enrich"], None),
    ]  # fmt: skip
    assert [(s.name, s.after, s.function) for s in child] == [
        ("score", [], None), ("store", ["score"], None),
    ]  # fmt: skip
    assert child.on_error is not None and child.on_error.name == "Catcher"
    assert FlowSpec.from_dict(json.loads(json.dumps(child.to_dict()))).to_dict() == child.to_dict()


def test_the_child_flow_consumes_what_the_parent_published():
    stream = memory_stream("pipeline")
    stream.messages.clear()
    graph = split_graph("memory://pipeline")
    run(build(graph), {"x": 1})
    child = build(split_by_function(graph.spec)["scorer"], function_name="scorer")
    (message,) = stream.messages
    answer = run(child, message, trigger="kafka", content_type="", id="m1")
    assert answer.body == {"id": "m1"}
    graph["store"].respond()
    child = build(split_by_function(graph.spec)["scorer"], function_name="scorer")
    assert run(child, message, trigger="kafka").body == {"x": 4, "trace": ["store"]}


def test_child_triggers():
    kafka = child_trigger(split_graph("kafka://b1:9092,b2:9092?topic=orders").spec, "scorer")
    assert (kafka.queue, kafka.kind) == ("q", "kafka-cluster")
    assert kafka.args == {"brokers": ["b1:9092", "b2:9092"], "topics": ["orders"],
                          "consumer_group": "scorer"}  # fmt: skip
    v3io = child_trigger(split_graph("v3io:///projects/p/orders").spec, "scorer")
    assert (v3io.kind, v3io.args) == (
        "v3ioStream",
        {"stream_path": "v3io:///projects/p/orders", "consumer_group": "scorer"},
    )
    assert child_trigger(split_graph().spec, "scorer").args == {"name": "orders"}


def test_a_child_fed_by_two_queues_or_by_a_plain_step_is_refused():
    graph = split_graph()
    graph.to(">>", "q2", path="memory://other")
    graph.add_step("$merge", name="join", after=["store", "q2"], function="scorer")
    with pytest.raises(
        ConfigError,
        match=r"function 'scorer' must be fed by exactly one queue "
        r"step \(got \['q', 'q2'\]\)",
    ):
        split_by_function(graph.spec)
    spec = FlowSpec(
        steps={
            "a": StepSpec("a", class_name=Add),
            "b": StepSpec("b", class_name=Add, after=["a"], function="f"),
        }
    )
    with pytest.raises(ConfigError, match="comes after 'a' of function '', not a queue"):
        split_by_function(spec)


class FakeProducer:
    instances: list[FakeProducer] = []

    def __init__(self, config):
        self.config = config
        self.sent = []
        self.full = 0
        self.left = 0
        FakeProducer.instances.append(self)

    def produce(self, topic, value, on_delivery):
        if self.full:
            self.full -= 1
            raise BufferError("queue full")
        self.sent.append((topic, value))
        on_delivery(None, None)

    def poll(self, timeout):
        return 0

    def flush(self, timeout):
        return self.left


@pytest.fixture
def fake_kafka(monkeypatch):
    module = types.ModuleType("confluent_kafka")
    module.Producer = FakeProducer
    monkeypatch.setitem(sys.modules, "confluent_kafka", module)
    FakeProducer.instances.clear()
    return FakeProducer.instances


def test_kafka_stream_produces_retries_once_and_flushes_on_close(fake_kafka, caplog):
    stream = open_queue("kafka://h:9092?topic=t", {"producer_options": {"acks": "all"}}, "q")
    assert isinstance(stream, KafkaStream)
    (producer,) = fake_kafka
    settings = {k: v for k, v in producer.config.items() if k not in ("logger", "error_cb")}
    assert settings == {**PRODUCER_DEFAULTS, "bootstrap.servers": "h:9092", "acks": "all"}
    assert stream.publish({"a": 1}) == {"a": 1}
    producer.full = 1
    stream.publish(b"raw")
    assert producer.sent == [("t", b'{"a":1}'), ("t", b"raw")]
    producer.full = 2
    with pytest.raises(NotReady, match="the Kafka producer for kafka://h:9092\\?topic=t is full"):
        stream.publish({})
    stream._delivered("broker down", None)
    producer.left = 3
    with caplog.at_level(logging.ERROR, "nuserve.streams.kafka"):
        stream.close()
    assert stream.failed == 1
    assert "3 messages to kafka://h:9092?topic=t were not delivered" in caplog.text


def test_kafka_stream_without_the_client(monkeypatch):
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)
    with pytest.raises(
        ConfigError, match="need confluent-kafka; pip install 'nuserve\\[serve\\]'"
    ):
        open_queue("kafka://h:1?topic=t", {}, "q")


def test_v3io_stream_puts_records(monkeypatch):
    import v3io.dataplane

    calls = []

    class FakeClient:
        def __init__(self, endpoint, access_key, logger=None):
            calls.append(("init", endpoint, access_key))
            self.stream = types.SimpleNamespace(put_records=lambda *a: calls.append(("put", *a)))

        def close(self):
            calls.append(("close",))

    monkeypatch.setattr(v3io.dataplane, "Client", FakeClient)
    settings = V3ioSettings(access_key="k")
    stream = open_queue("v3io:///bigdata/s/x", {"settings": settings}, "q")
    assert isinstance(stream, V3ioStream)
    stream.publish({"a": 1})
    stream.close()
    assert calls == [
        ("init", "http://v3io-webapi:8081", "k"),
        ("put", "bigdata", "/s/x", [{"data": b'{"a":1}'}]),
        ("close",),
    ]
    with pytest.raises(ConfigError, match="must look like v3io:///<container>/<stream path>"):
        open_queue("v3io://bigdata/s", {}, "q")
    with pytest.raises(ConfigError, match="queue step 'q' path 'v3io:///bigdata/s': bad stream options"):
        open_queue("v3io:///bigdata/s", {"nope": 1}, "q")
