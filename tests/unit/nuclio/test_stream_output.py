"""Output and dead-letter streams: the records, the spec fields, the checks, the writes."""

from __future__ import annotations

import asyncio
import base64
import uuid
from concurrent.futures import Future

import orjson
import pytest
import yaml

import nuserve
from nuserve.event import Event
from nuserve.nuclio.stream_output import StreamOutput, check_stream_path, dead_letter
from nuserve.spec.serving import ServingSpec
from nuserve.streams import Stream, memory_stream
from nuserve.streams import open as streams_open
from tests.models import Echo


def stream_event(body, id="e1"):
    return Event(body, id=id, trigger="kafka-cluster", topic="in", shard_id=3, offset=41)


def letter(body, status, answer):
    return dead_letter(stream_event(body), status, answer, body)


def test_a_dead_letter_keeps_the_error_the_source_and_the_payload():
    body = orjson.dumps({"error": "model 'nope' not found", "id": "e1"})
    assert letter(b'{"model": "nope"}', 404, body) == {
        "error": "model 'nope' not found", "status": 404, "id": "e1",
        "topic": "in", "partition": 3, "offset": 41, "payload": '{"model": "nope"}',
    }  # fmt: skip


def test_a_payload_that_is_not_utf8_is_base64_and_says_so():
    raw = b"\xff\xfe not json"
    record = letter(raw, 400, b'{"error": "bad"}')
    assert record["payload_encoding"] == "base64"
    assert base64.b64decode(record["payload"]) == raw
    assert record["error"] == "bad"


def test_a_decoded_body_is_written_back_as_json_and_a_plain_answer_as_text():
    record = letter({"a": 1}, 500, b"upstream broke")
    assert record["payload"] == '{"a":1}' and "payload_encoding" not in record
    assert record["error"] == "upstream broke"


def test_the_spec_carries_the_streams_and_the_acked_triggers():
    fn = nuserve.new_function("s")
    fn.add_model("e", class_name=Echo)
    fn.spec.output_stream = "kafka://127.0.0.1:9092?topic=out"
    fn.spec.error_stream = "memory://dead"
    fn.add_kafka_trigger("k", brokers="b:9092", topics="in", explicit_ack=True)
    fn.add_kafka_trigger("plain", brokers="b:9092", topics="other")
    data = fn.spec.serving_spec().to_dict()
    assert data["output_stream"] == "kafka://127.0.0.1:9092?topic=out"
    assert (data["error_stream"], data["ack_triggers"]) == ("memory://dead", ["k"])
    back = ServingSpec.from_dict(data)
    assert (back.output_stream, back.error_stream, back.ack_triggers) == (
        fn.spec.output_stream,
        "memory://dead",
        ["k"],
    )
    assert "output_stream" not in ServingSpec().to_dict()  # unchanged when unset


def test_to_yaml_round_trips_the_streams(tmp_path):
    fn = nuserve.new_function("s")
    fn.add_model("e", class_name=Echo)
    fn.spec.output_stream = "memory://o"
    fn.add_kafka_trigger("k", brokers="b:9092", topics="in", explicit_ack=True)
    text = fn.to_yaml(tmp_path / "function.yaml")
    again = nuserve.function.serving_function.function_from_yaml(tmp_path / "function.yaml")
    assert again.spec.output_stream == "memory://o" and again.to_yaml() == text
    assert yaml.safe_load(text)["spec"]["triggers"]["k"]["explicitAckMode"] == "enable"


@pytest.mark.parametrize("path", ["kafka:/h?topic=t", "kafka://h:1", "s3://x", "memory://", 7])
def test_a_bad_stream_path_is_refused_when_the_yaml_is_written(path):
    fn = nuserve.new_function("s")
    fn.add_model("e", class_name=Echo)
    fn.spec.error_stream = path
    with pytest.raises(
        nuserve.ConfigError, match=r"error_stream .* (is not a stream URL|must look like|has unknown scheme)"
    ):
        fn.to_yaml()
    assert check_stream_path(None, "output_stream") is None


def test_no_streams_and_no_acks_build_nothing():
    assert StreamOutput.from_spec(ServingSpec()) is None
    only_acks = StreamOutput.from_spec(ServingSpec(ack_triggers=["k"]))
    assert only_acks is not None and only_acks.output is None and only_acks.errors is None


def test_answers_go_to_the_output_and_failures_to_the_error_stream():
    names = [f"o-{uuid.uuid4().hex}", f"d-{uuid.uuid4().hex}"]
    spec = ServingSpec(output_stream=f"memory://{names[0]}", error_stream=f"memory://{names[1]}")
    output = StreamOutput.from_spec(spec)
    assert output is not None
    output.write(stream_event(b"{}", "ok-1"), 200, b'{"outputs": [1]}', b"{}")
    failed = stream_event(b"x", "bad-1")
    asyncio.run(output.write_async(failed, 400, b'{"error": "not JSON"}', b"x"))
    (record,) = memory_stream(names[0]).records
    assert record == (b'{"outputs": [1]}', b"ok-1", {"X-Request-Id": "ok-1"})
    (letter,) = memory_stream(names[1]).records
    assert orjson.loads(letter.value)["error"] == "not JSON" and letter.key == b"bad-1"
    only_output = StreamOutput(output=memory_stream(names[0]))
    assert (
        only_output.pick(stream_event(b"x"), 404, b"{}", b"x") is None
    )  # no error stream: dropped


class Slow(Stream):
    """A blocking stream (as v3io is): ``send`` must not run on the event loop."""

    def __init__(self, path, **options):
        super().__init__(path)
        self.threads = []

    def publish(self, body):
        import threading

        self.threads.append(threading.current_thread().name)
        return body


class Never(Stream):
    blocking = False

    def __init__(self, path, **options):
        super().__init__(path)

    def send(self, data, key=None, headers=None):
        return Future()  # never confirmed


def test_a_blocking_stream_is_written_from_a_thread_and_a_silent_one_times_out(monkeypatch):
    monkeypatch.setitem(streams_open.PRODUCERS, "slow", Slow)
    monkeypatch.setitem(streams_open.PRODUCERS, "never", Never)
    output = StreamOutput.from_spec(ServingSpec(output_stream="slow://x"))
    assert output is not None and isinstance(output.output, Slow)

    asyncio.run(output.write_async(stream_event(b"{}"), 200, b"{}", b"{}"))
    assert output.output.threads and output.output.threads[0] != "MainThread"
    never = StreamOutput.from_spec(ServingSpec(output_stream="never://x"), timeout=0.05)
    assert never is not None
    with pytest.raises(TimeoutError):
        asyncio.run(never.write_async(stream_event(b"{}"), 200, b"{}", b"{}"))
