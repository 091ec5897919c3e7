"""One URL, one meaning, one client setup: the users of a stream agree on it.

Tracking, queue steps, output streams and the monitoring consumer given the same ``memory://``
URL meet in the same in-process stream; given the same ``kafka://`` URL they get clients with
the same settings from ``nuserve.streams.kafka``.
"""

from __future__ import annotations

import sys
import types

import pytest

from nuserve.graph.queues import open_queue
from nuserve.monitoring.consumer import open_source
from nuserve.nuclio.stream_output import open_output
from nuserve.streams import kafka
from nuserve.streams.memory import forget_memory_stream
from nuserve.tracking.sinks import create_sink


def test_a_memory_url_is_one_stream_for_tracking_queues_outputs_and_the_monitor():
    forget_memory_stream("shared")
    url = "memory://shared"
    sink, queue, output = create_sink(url), open_queue(url, {}, "q"), open_output(url, "out", 1.0)
    source = open_source(url)
    sink.send([b'{"from": "tracking"}'])
    queue.publish({"from": "queue"})
    assert output is not None
    output.send(b'{"from": "output"}').result(1)
    assert source.poll(0.5) == [{"from": "tracking"}, {"from": "queue"}, {"from": "output"}]
    forget_memory_stream("shared")


class Recorded:
    configs: list[tuple[str, dict]] = []

    def __init__(self, config):
        Recorded.configs.append((type(self).__name__, dict(config)))

    def subscribe(self, topics):
        pass


class Producer(Recorded):
    pass


class Consumer(Recorded):
    pass


@pytest.fixture
def recorded_clients(monkeypatch):
    module = types.ModuleType("confluent_kafka")
    module.Producer, module.Consumer = Producer, Consumer
    module.KafkaException = RuntimeError
    monkeypatch.setitem(sys.modules, "confluent_kafka", module)
    Recorded.configs.clear()
    return Recorded.configs


def test_a_kafka_url_gets_the_same_client_settings_everywhere(recorded_clients):
    url = "kafka://h1:1,h2:2/events"
    create_sink(url)
    open_queue(url, {}, "q")
    open_output(url, "output_stream", 2.0)
    open_source(url)
    kinds = [kind for kind, _ in recorded_clients]
    assert kinds == ["Producer", "Producer", "Producer", "Consumer"]
    for kind, config in recorded_clients:
        assert config["bootstrap.servers"] == "h1:1,h2:2"
        assert isinstance(config["logger"], kafka.ClientLog)
        assert callable(config["error_cb"])
        defaults = kafka.PRODUCER_DEFAULTS if kind == "Producer" else kafka.CONSUMER_DEFAULTS
        assert {k: config[k] for k in defaults if k not in ("message.timeout.ms",)} == {
            k: v for k, v in defaults.items() if k != "message.timeout.ms"
        }


class FakeError:
    def __init__(self, name, text, retriable=False, fatal=False):
        self._name, self._text, self._retriable, self._fatal = name, text, retriable, fatal

    def name(self):
        return self._name

    def str(self):
        return self._text

    def retriable(self):
        return self._retriable

    def fatal(self):
        return self._fatal


def test_librdkafka_errors_read_one_way():
    assert kafka.describe(FakeError("_TRANSPORT", "refused", retriable=True)) == (
        "_TRANSPORT: refused (retriable)"
    )
    assert kafka.describe(RuntimeError(FakeError("_FATAL", "fenced", fatal=True))) == (
        "_FATAL: fenced (fatal)"
    )
    assert kafka.describe(FakeError("TOPIC_AUTHORIZATION_FAILED", "denied")) == (
        "TOPIC_AUTHORIZATION_FAILED: denied"
    )
    assert kafka.describe("broker down") == "broker down"
