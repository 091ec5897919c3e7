"""Unique request ids under Nuclio, whose processor reuses one event object (and its id) per worker."""

from __future__ import annotations

import logging
import time
import uuid

import nuclio_sdk
import orjson
import pytest
from nuclio_sdk.test import Platform

import handler as root_handler
import nuserve
from nuserve.nuclio.request_ids import MAX_REMEMBERED, RequestIds
from nuserve.nuclio.spec_env import encode_spec
from nuserve.tracking.sinks import MemorySink
from tests import nuclio_wrapper as wrapper


@pytest.fixture
def tracked(monkeypatch):
    """A platform serving a tracked Echo model, and the name of its memory sink."""
    name = f"ids-{uuid.uuid4().hex[:8]}"
    fn = nuserve.new_function("ids")
    fn.add_model("e", class_name="tests.models.Echo")
    fn.set_tracking(f"memory://{name}", flush_interval_ms=10)
    monkeypatch.setenv("NUSERVE_SPEC", encode_spec(fn.spec.serving_spec().to_dict()))
    monkeypatch.delenv("NUSERVE_SPEC_PATH", raising=False)
    yield Platform(), name
    logging.getLogger("nuserve").handlers.clear()
    logging.getLogger("nuserve").propagate = True
    MemorySink.forget(name)


def records(name: str, n: int) -> list[dict]:
    sink = MemorySink.named(name)
    deadline = time.monotonic() + 10
    while len(sink.records()) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return sink.records()


def test_three_requests_on_one_reused_event_get_three_ids_in_answers_and_records(tracked):
    platform, name = tracked
    event = wrapper.http_event(b'{"inputs": [0]}', "/v2/models/e/infer")
    answers = []
    for i in range(3):
        event.body = {"inputs": [i]}  # Nuclio refills the worker's one event; its id stays
        response = platform.call_handler(root_handler.handler, event)
        body = orjson.loads(response.body)
        assert body["outputs"] == [i] and response.headers["X-Request-Id"] == body["id"]
        answers.append(body["id"])
    assert event.id == wrapper.NUCLIO_EVENT_ID
    assert len(set(answers)) == 3
    assert answers[0] == wrapper.NUCLIO_EVENT_ID  # the trigger's id is used while it is new
    got = records(name, 3)
    assert [r["request"]["id"] for r in got] == answers


def test_a_clients_x_request_id_is_kept_even_when_it_repeats(tracked):
    platform, _ = tracked
    event = wrapper.http_event(b'{"inputs": [1]}', "/v2/models/e/infer", headers={"X-Request-Id": "mine"})
    ids = [orjson.loads(platform.call_handler(root_handler.handler, event).body)["id"] for _ in range(2)]
    assert ids == ["mine", "mine"]


def test_kafka_messages_without_a_header_on_one_worker_get_distinct_ids(tracked):
    platform, _ = tracked
    ids = []
    for offset in range(5):
        event = wrapper.kafka_event(b'{"model": "e", "inputs": [1]}', offset=offset, partition=offset % 2)
        ids.append(orjson.loads(platform.call_handler(root_handler.handler, event).body)["id"])
    assert len(set(ids)) == 5


def test_a_missing_trigger_id_gets_one_made_here():
    ids = RequestIds()
    made = {ids.pick(None), ids.pick(""), ids.pick(b"")}
    assert len(made) == 3 and all(isinstance(i, str) and i for i in made)


def test_the_memory_is_bounded_and_ids_stay_unique():
    ids = RequestIds()
    picked = [ids.pick(f"t{i}") for i in range(MAX_REMEMBERED + 10)]
    assert picked == [f"t{i}" for i in range(MAX_REMEMBERED + 10)]
    assert ids.pick(f"t{MAX_REMEMBERED + 5}") != f"t{MAX_REMEMBERED + 5}"
    assert ids.pick(b"raw") == "raw"


def test_each_worker_remembers_its_own_ids(monkeypatch):
    fn = nuserve.new_function("ids")
    fn.add_model("e", class_name="tests.models.Echo")
    monkeypatch.setenv("NUSERVE_SPEC", encode_spec(fn.spec.serving_spec().to_dict()))
    try:
        firsts = []
        for _ in range(2):
            context = nuclio_sdk.Context(logging.getLogger("t"), Platform())
            root_handler.init_context(context)
            event = wrapper.http_event(b'{"inputs": [1]}', "/v2/models/e/infer")
            firsts.append(orjson.loads(root_handler.handler(context, event).body)["id"])
        assert firsts == [wrapper.NUCLIO_EVENT_ID] * 2
    finally:
        logging.getLogger("nuserve").handlers.clear()
        logging.getLogger("nuserve").propagate = True
