"""``nuserve serve``'s Kafka events carry exactly what Nuclio 1.14's wrapper hands the handler.

The reference is ``tests.nuclio_wrapper.kafka_event``: the processor's msgpack map for the
same message, read by the real nuclio_sdk deserializer. The local side is built from a real
``confluent_kafka.Message``.
"""

from __future__ import annotations

import logging
import uuid

import confluent_kafka
import nuclio_sdk
import orjson
import pytest
from nuclio_sdk.test import Platform

import handler as root_handler
import nuserve
from nuserve.nuclio.spec_env import encode_spec
from nuserve.serve.kafka import kafka_event
from nuserve.streams.memory import forget_memory_stream, memory_stream
from tests import nuclio_wrapper as wrapper

CASES = [
    ("a value and headers", b'{"model": "e", "inputs": [1]}', [("X-Request-Id", b"r1"), ("h", b"v")]),
    ("a null header value", b'{"inputs": [1]}', [("h", None), ("empty", b"")]),
    ("a tombstone", None, []),
    ("bytes that are not utf-8", b"\xff\xfe", None),
]


def local_event(value, headers, topic="in", partition=2, offset=41, stamp_ms=1_700_000_000_987):
    message = confluent_kafka.Message(
        topic=topic, partition=partition, offset=offset, value=value, headers=headers,
        timestamp=(confluent_kafka.TIMESTAMP_CREATE_TIME, stamp_ms), key=b"the-key",
    )  # fmt: skip
    return kafka_event(message, nuclio_sdk.TriggerInfo("kafka-cluster", "kafka"))


@pytest.mark.parametrize(("case", "value", "headers"), CASES, ids=[c[0] for c in CASES])
def test_every_field_has_nuclios_type_and_value(case, value, headers):
    ours = wrapper.event_fields(local_event(value, headers))
    theirs = wrapper.event_fields(
        wrapper.kafka_event(value, topic="in", partition=2, offset=41, headers=headers, timestamp=1_700_000_000)
    )
    assert isinstance(ours.pop("id"), str) and theirs.pop("id") == wrapper.NUCLIO_EVENT_ID
    assert {k: (type(v), v) for k, v in ours.items()} == {k: (type(v), v) for k, v in theirs.items()}
    assert "key" not in ours and b"the-key" not in ours.values()


def test_a_message_without_a_timestamp_has_gos_zero_time():
    message = confluent_kafka.Message(topic="t", partition=0, offset=0, value=b"x")
    event = kafka_event(message, nuclio_sdk.TriggerInfo("kafka-cluster", "k"))
    assert event.timestamp == wrapper.kafka_event(b"x", timestamp=-62135596800).timestamp


@pytest.fixture
def streams(monkeypatch):
    out, dead = f"o-{uuid.uuid4().hex[:6]}", f"d-{uuid.uuid4().hex[:6]}"
    fn = nuserve.new_function("kev")
    fn.add_model("e", class_name="tests.models.Echo")
    fn.spec.output_stream, fn.spec.error_stream = f"memory://{out}", f"memory://{dead}"
    monkeypatch.setenv("NUSERVE_SPEC", encode_spec(fn.spec.serving_spec().to_dict()))
    monkeypatch.delenv("NUSERVE_SPEC_PATH", raising=False)
    yield Platform(), memory_stream(out), memory_stream(dead)
    logging.getLogger("nuserve").handlers.clear()
    logging.getLogger("nuserve").propagate = True
    forget_memory_stream(out)
    forget_memory_stream(dead)


def test_a_tombstone_answers_alike_and_its_dead_letter_payload_is_null(streams):
    platform, _, dead = streams
    answers = []
    for event in (local_event(None, None), wrapper.kafka_event(None, topic="in", partition=2, offset=41)):
        response = platform.call_handler(root_handler.handler, event)
        body = orjson.loads(response.body)
        answers.append((response.status_code, body["error"]))
    assert answers[0] == answers[1] and answers[0][0] == 400
    letters = [orjson.loads(r.value) for r in dead.records]
    assert len(letters) == 2
    for letter in letters:
        assert letter["payload"] is None and (letter["topic"], letter["partition"], letter["offset"]) == ("in", 2, 41)
    assert letters[0]["error"] == letters[1]["error"]


def test_output_and_dead_letter_keys_are_unique_per_message(streams):
    platform, out, dead = streams
    for offset in range(4):
        value = b'{"model": "e", "inputs": [1]}' if offset % 2 else b"not json"
        platform.call_handler(root_handler.handler, wrapper.kafka_event(value, offset=offset))
        platform.call_handler(root_handler.handler, local_event(value, None, offset=offset))
    keys = [r.key for r in out.records] + [r.key for r in dead.records]
    assert len(keys) == 8 and len(set(keys)) == 8


def test_explicit_ack_names_the_same_offset_for_both():
    ours = local_event(b"{}", None)
    theirs = wrapper.kafka_event(b"{}", topic="in", partition=2, offset=41)
    assert ours.compile_explicit_ack_message() == theirs.compile_explicit_ack_message()
    assert ours.compile_explicit_ack_message()["attributes"] == {
        "topic": "in", "partition": 2, "offset": 41,
    }  # fmt: skip
