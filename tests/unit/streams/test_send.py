"""``Stream.send``: publishing with a delivery confirmation (output and dead-letter streams)."""

from __future__ import annotations

import sys
import threading
import types

import pytest

from nuserve.errors import NotReady
from nuserve.streams import open_stream
from nuserve.streams.base import Record, Stream
from nuserve.streams.kafka import KafkaStream
from nuserve.streams.memory import MemoryStream


class DeferringProducer:
    """Queues messages; delivery callbacks run from ``poll``, as librdkafka's do."""

    def __init__(self, config):
        self.config = config
        self.pending = []
        self.sent = []
        self.fail = None
        self.pollers = set()
        self.lock = threading.Lock()

    def produce(self, topic, value, on_delivery, key=None, headers=None):
        with self.lock:
            self.pending.append((on_delivery, (topic, value, key, headers)))

    def poll(self, timeout):
        self.pollers.add(threading.current_thread().name)
        with self.lock:
            pending, self.pending = self.pending, []
        for callback, message in pending:
            if self.fail is None:
                self.sent.append(message)
            callback(self.fail, message)
        return len(pending)

    def flush(self, timeout):
        return self.poll(0) and 0


@pytest.fixture
def producer_class(monkeypatch):
    module = types.ModuleType("confluent_kafka")
    module.Producer = DeferringProducer
    monkeypatch.setitem(sys.modules, "confluent_kafka", module)
    return DeferringProducer


def test_kafka_send_is_confirmed_by_the_delivery_callback(producer_class):
    stream = open_stream("kafka://h:9092?topic=out", "output_stream")
    assert isinstance(stream, KafkaStream) and not stream.blocking
    future = stream.send(b'{"a":1}', b"id-1", {"X-Request-Id": "id-1"})
    assert future.result(5) is None
    assert stream.producer.sent == [("out", b'{"a":1}', b"id-1", [("X-Request-Id", "id-1")])]
    assert any(name.startswith("kafka-deliveries-") for name in stream.producer.pollers)
    stream.producer.fail = "broker down"
    with pytest.raises(NotReady, match="message to kafka://h:9092\\?topic=out was not delivered"):
        stream.send(b"x").result(5)
    assert stream.failed == 1
    stream.close()
    assert stream._poller is not None and not stream._poller.is_alive()


def test_a_cancelled_wait_does_not_break_the_delivery_thread(producer_class):
    stream = open_stream("kafka://h:9092?topic=out", "output_stream")
    first = stream.send(b"1")
    first.cancel()
    assert stream.send(b"2").result(5) is None  # the poller survived the cancelled future
    stream.close()


def test_memory_send_keeps_key_and_headers_and_a_plain_stream_publishes():
    memory = MemoryStream("memory://m")
    assert memory.send(b"v", b"k", {"h": "1"}).done()
    assert memory.records == [Record(b"v", b"k", {"h": "1"})] and memory.messages == [b"v"]

    class Plain(Stream):
        def __init__(self):
            super().__init__("plain://x")
            self.got = []

        def publish(self, body):
            self.got.append(body)
            return body

    plain = Plain()
    assert plain.blocking and plain.send(b"v", b"k").result(0) is None and plain.got == [b"v"]
