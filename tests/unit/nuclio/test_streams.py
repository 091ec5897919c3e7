"""The Nuclio handlers with output and error streams and explicit ack, on real nuclio_sdk objects.

Acks are observed through a subclass of Nuclio's own ``nuclio_sdk.Platform`` that records
each ``explicit_ack`` call (and what the output stream held at that moment), then lets the
real method build the control message.
"""

from __future__ import annotations

import asyncio
import uuid

import nuclio_sdk
import orjson
import pytest

import nuserve
from nuserve.nuclio.adapter import handler, handler_async, init_context
from nuserve.nuclio.spec_env import SPEC_ENV, encode_spec
from nuserve.nuclio.stream_output import NO_ACK
from nuserve.streams import Stream, memory_stream
from nuserve.streams import open as streams_open

NO_ACK_HEADER = NO_ACK


class RecordingPlatform(nuclio_sdk.Platform):
    """Nuclio's platform, recording ``explicit_ack`` calls and the control messages sent."""

    def __init__(self, watched: list[bytes] | None = None) -> None:
        super().__init__("test", on_control_callback=self.control)
        self.watched = watched if watched is not None else []
        self.acks: list[tuple[str, int, int, int]] = []
        self.messages: list[dict] = []

    async def explicit_ack(self, qualified_offset: nuclio_sdk.QualifiedOffset) -> None:
        q = qualified_offset
        self.acks.append((q.topic, q.partition, q.offset, len(self.watched)))
        await super().explicit_ack(qualified_offset)

    async def control(self, message: dict) -> None:
        self.messages.append(message)


def streams():
    """Fresh memory output and error streams."""
    return memory_stream(f"out-{uuid.uuid4().hex}"), memory_stream(f"dead-{uuid.uuid4().hex}")


def started(output: Stream | None, errors: Stream | None, ack: bool = True, platform=None):
    """A real Nuclio context after init_context, serving model ``e`` (echo)."""
    fn = nuserve.new_function("streamed")
    fn.add_model("e", class_name="tests.models.Echo")
    fn.spec.output_stream = output.path if output is not None else None
    fn.spec.error_stream = errors.path if errors is not None else None
    fn.add_kafka_trigger("k", brokers="127.0.0.1:9092", topics="in", explicit_ack=ack)
    context = nuclio_sdk.Context(None, platform or RecordingPlatform(), worker_id=0)
    init_context(context, environ={SPEC_ENV: encode_spec(fn.spec.serving_spec().to_dict())})
    return context


def kafka_event(body, offset=7, request_id=b"req-7", kind="kafka-cluster", trigger="k"):
    return nuclio_sdk.Event(
        body=body, content_type="", path="in", topic="in", shard_id=2, offset=offset,
        headers={"X-Request-Id": request_id}, trigger=nuclio_sdk.TriggerInfo(kind, trigger),
    )  # fmt: skip


def http_event(body, path="/v2/models/e/infer"):
    return nuclio_sdk.Event(
        body=body, content_type="application/json", path=path, method="POST",
        headers={}, trigger=nuclio_sdk.TriggerInfo("http", "http"), _id="h1",
    )  # fmt: skip


def test_async_handler_writes_the_answer_then_acks_explicitly():
    output, errors = streams()
    platform = RecordingPlatform(output.messages)
    context = started(output, errors, platform=platform)
    reply = asyncio.run(handler_async(context, kafka_event(b'{"model": "e", "inputs": [5]}')))
    assert reply.status_code == 200 and reply.headers[NO_ACK_HEADER] is True
    (record,) = output.records
    assert record.value == reply.body and orjson.loads(record.value)["outputs"] == [5]
    assert (record.key, record.headers) == (b"req-7", {"X-Request-Id": "req-7"})
    # acked once, for this offset, when the answer was already in the output stream
    assert platform.acks == [("in", 2, 7, 1)]
    assert platform.messages == [
        {"kind": "streamMessageAck", "attributes": {"topic": "in", "partition": 2, "offset": 7}}
    ]
    assert errors.records == []


def test_poison_messages_are_dead_lettered_and_acked_and_the_next_is_served():
    output, errors = streams()
    platform = RecordingPlatform(errors.messages)
    context = started(output, errors, platform=platform)
    bodies = [
        b"\xff not json",
        b'{"model": "nope", "inputs": [1]}',
        b'{"model": "e", "inputs": [2]}',
    ]
    replies = [
        asyncio.run(handler_async(context, kafka_event(b, offset=i, request_id=f"r{i}".encode())))
        for i, b in enumerate(bodies)
    ]
    assert [r.status_code for r in replies] == [400, 404, 200]
    letters = [orjson.loads(r.value) for r in errors.records]
    assert [(d["id"], d["status"], d["offset"], d["partition"], d["topic"]) for d in letters] == [
        ("r0", 400, 0, 2, "in"), ("r1", 404, 1, 2, "in"),
    ]  # fmt: skip
    assert letters[0]["error"].startswith("request body is not valid JSON")
    assert letters[0]["payload_encoding"] == "base64"
    assert letters[1]["payload"] == '{"model": "nope", "inputs": [1]}'
    assert "nope" in letters[1]["error"] and "payload_encoding" not in letters[1]
    assert [orjson.loads(r.value)["outputs"] for r in output.records] == [[2]]
    assert [a[2] for a in platform.acks] == [0, 1, 2]


def test_http_events_never_reach_the_streams():
    output, errors = streams()
    platform = RecordingPlatform()
    context = started(output, errors, platform=platform)
    reply = asyncio.run(handler_async(context, http_event({"inputs": [1]})))
    assert reply.status_code == 200 and NO_ACK_HEADER not in reply.headers
    reply = handler(context, http_event({"inputs": [1]}, "/v2/models/nope/infer"))
    assert reply.status_code == 404
    assert output.records == errors.records == [] and platform.acks == []


def test_a_trigger_without_explicit_ack_is_acked_by_returning():
    output, _ = streams()
    platform = RecordingPlatform()
    context = started(output, None, ack=False, platform=platform)
    reply = asyncio.run(handler_async(context, kafka_event(b'{"model": "e", "inputs": [1]}')))
    assert reply.status_code == 200 and NO_ACK_HEADER not in reply.headers
    assert len(output.records) == 1 and platform.acks == []
    # no error stream: a failure is answered (and acked by returning), not written anywhere
    reply = asyncio.run(handler_async(context, kafka_event(b"nope")))
    assert reply.status_code == 400 and len(output.records) == 1


def test_v3io_events_and_the_sync_handler_write_too():
    output, errors = streams()
    platform = RecordingPlatform()
    context = started(output, errors, platform=platform)
    event = kafka_event(b'{"model": "e", "inputs": [3]}', kind="v3ioStream", trigger="v")
    reply = handler(context, event)
    assert reply.status_code == 200 and NO_ACK_HEADER not in reply.headers  # acked on return
    batch = handler(context, [kafka_event(b"{]", offset=8), http_event({"inputs": [4]})])
    assert [r.status_code for r in batch] == [400, 200]
    assert [orjson.loads(r.value)["outputs"] for r in output.records] == [[3]]
    assert [orjson.loads(r.value)["offset"] for r in errors.records] == [8]
    assert platform.acks == []  # the sync handler relies on the ack Nuclio does on return


class Broken(Stream):
    """A stream whose every write fails, as a broker that is down."""

    blocking = False

    def __init__(self, path, **options):
        super().__init__(path)

    def send(self, data, key=None, headers=None):
        raise nuserve.NotReady("broker down")


@pytest.mark.parametrize("use_async", [True, False])
def test_an_answer_that_cannot_be_written_is_not_acked(monkeypatch, use_async):
    monkeypatch.setitem(streams_open.PRODUCERS, "broken", Broken)
    platform = RecordingPlatform()
    context = started(Broken("broken://out"), None, platform=platform)
    event = kafka_event(b'{"model": "e", "inputs": [1]}')
    reply = asyncio.run(handler_async(context, event)) if use_async else handler(context, event)
    assert reply.status_code == 503 and reply.headers[NO_ACK_HEADER] is True
    assert orjson.loads(reply.body) == {
        "error": "the answer could not be written to its stream: NotReady: broker down",
        "id": "req-7",
    }
    assert platform.acks == []
