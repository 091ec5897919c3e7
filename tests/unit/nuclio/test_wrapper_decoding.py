"""One decoding for every trigger: the body Nuclio's wrapper hands over meets nuserve serve's rules.

The events come from ``tests.nuclio_wrapper`` (the processor's msgpack map read by the real
nuclio_sdk deserializer, as ``_nuclio_wrapper.py`` reads it) and go through ``handler.py``.
"""

from __future__ import annotations

import asyncio
import logging

import nuclio_sdk
import orjson
import pytest
from nuclio_sdk.test import Platform

import handler as root_handler
import nuserve
from nuserve.nuclio.adapter import answer_async, encoded
from nuserve.nuclio.spec_env import encode_spec
from nuserve.serve.events import request_event
from tests import nuclio_wrapper as wrapper

NON_FINITE = [
    (b'{"inputs": [[5.1, NaN, 1.4, 0.2]]}', "NaN", "inputs[0][1]"),
    (b'{"inputs": [[5.1, 3.5, Infinity, 0.2]]}', "Infinity", "inputs[0][2]"),
    (b'{"inputs": [[5.1, 3.5, 1.4, -Infinity]]}', "-Infinity", "inputs[0][3]"),
    (b'{"inputs": [[1e400, 3.5, 1.4, 0.2]]}', "Infinity", "inputs[0][0]"),
    (b'{"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1.0, NaN]}]}',
     "NaN", "inputs[0].data[1]"),
    (b'{"id": "a", "parameters": {"t": -1e999}, "inputs": [[1, 2]]}', "-Infinity", "parameters.t"),
]  # fmt: skip


def dec_function():
    fn = nuserve.new_function("dec")
    fn.add_model("s", class_name="tests.models.Summer")
    fn.spec.max_body_size = 1000
    return fn


@pytest.fixture
def platform(monkeypatch):
    fn = dec_function()
    monkeypatch.setenv("NUSERVE_SPEC", encode_spec(fn.spec.serving_spec().to_dict()))
    monkeypatch.delenv("NUSERVE_SPEC_PATH", raising=False)
    yield Platform()
    logging.getLogger("nuserve").handlers.clear()
    logging.getLogger("nuserve").propagate = True


def answer(platform, event):
    response = platform.call_handler(root_handler.handler, event)
    assert isinstance(response, nuclio_sdk.Response)
    assert response.content_type == "application/json"
    return response.status_code, orjson.loads(response.body)


def expected_error(spelled: str, where: str) -> str:
    return (
        f"request body holds a non-finite number ({spelled}) at {where}: JSON numbers must be "
        "finite; send null or a finite value"
    )


@pytest.mark.parametrize(("raw", "spelled", "where"), NON_FINITE)
def test_the_wrapper_decoded_a_non_finite_number_and_it_is_a_400_naming_where(platform, raw, spelled, where):
    event = wrapper.http_event(raw, "/v2/models/s/infer")
    assert type(event.body) is dict  # Python's json took NaN and 1e400: the model would see them
    status, body = answer(platform, event)
    assert (status, body["error"]) == (400, expected_error(spelled, where))
    assert body["id"] == wrapper.NUCLIO_EVENT_ID


@pytest.mark.parametrize(("raw", "spelled", "where"), NON_FINITE)
@pytest.mark.parametrize("content_type", ["text/plain", "application/json; charset=utf-8", ""])
def test_bytes_the_wrapper_left_undecoded_get_the_same_400(platform, raw, spelled, where, content_type):
    event = wrapper.http_event(raw, "/v2/models/s/infer", content_type=content_type)
    assert type(event.body) is bytes
    status, body = answer(platform, event)
    assert (status, body["error"]) == (400, expected_error(spelled, where))


@pytest.mark.parametrize(("raw", "spelled", "where"), NON_FINITE)
def test_a_kafka_message_gets_the_same_400(platform, raw, spelled, where):
    poisoned = b'{"model": "s", ' + raw[1:]
    status, body = answer(platform, wrapper.kafka_event(poisoned))
    assert (status, body["error"]) == (400, expected_error(spelled, where))


@pytest.mark.parametrize(("raw", "spelled", "where"), NON_FINITE)
def test_nuserve_serve_hands_the_adapter_what_the_wrapper_does(platform, raw, spelled, where):
    """``nuserve serve``'s event for the same request decodes alike and answers alike."""
    scope = {"query_string": b"", "method": "POST", "path": "/v2/models/s/infer"}
    local, lenient = request_event(scope, raw, {"X-Request-Id": "r", "Content-Type": "application/json"})
    assert lenient
    nuclio = wrapper.http_event(raw, "/v2/models/s/infer", headers={"X-Request-Id": "r"})
    assert repr(local.body) == repr(nuclio.body)
    server = dec_function().to_mock_server()
    status, body, _ = encoded(asyncio.run(answer_async(server, local, len(raw))), local.id)
    assert (status, orjson.loads(body)) == answer(platform, nuclio)


def test_a_string_the_wrapper_decoded_is_a_json_string_not_decoded_again(platform):
    status, body = answer(platform, wrapper.http_event(b'"{\\"inputs\\": [[1, 2]]}"', "/v2/models/s/infer"))
    assert status == 400 and "must be a JSON object (got str)" in body["error"]


def test_finite_bodies_still_infer_in_every_form(platform):
    raw = b'{"inputs": [[1.5, 2.5]]}'
    for event in (
        wrapper.http_event(raw, "/v2/models/s/infer"),
        wrapper.http_event(raw, "/v2/models/s/infer", content_type="text/plain"),
        wrapper.kafka_event(b'{"model": "s", "inputs": [[1.5, 2.5]]}'),
        wrapper.v3io_event(b'{"model": "s", "inputs": [[1.5, 2.5]]}'),
    ):
        status, body = answer(platform, event)
        assert (status, body["outputs"]) == (200, [4.0])


def test_a_body_the_wrapper_decoded_over_max_body_size_is_nuserves_413(platform):
    raw = orjson.dumps({"inputs": [[1.0] * 300]})
    assert len(raw) > 1000
    event = wrapper.http_event(raw, "/v2/models/s/infer")
    assert type(event.body) is dict and event.size == len(raw)
    status, body = answer(platform, event)
    assert status == 413
    assert body["error"] == (
        f"request body is {len(raw)} bytes, over the limit of 1000 bytes (max_body_size in the "
        "serving spec)"
    )
    as_bytes = wrapper.http_event(raw, "/v2/models/s/infer", content_type="text/plain")
    status, again = answer(platform, as_bytes)
    assert (status, again["error"]) == (413, body["error"])


def test_in_trigger_batch_mode_each_event_is_judged_alone(platform):
    events = [
        wrapper.http_event(b'{"inputs": [[1, 2]]}', "/v2/models/s/infer", event_id="n0"),
        wrapper.http_event(b'{"inputs": [[1, NaN]]}', "/v2/models/s/infer", event_id="n1"),
        wrapper.http_event(b'{"inputs": [[3, 4]]}', "/v2/models/s/infer", event_id="n2"),
    ]
    responses = platform.call_handler(root_handler.handler, events)
    results = [(r.status_code, orjson.loads(r.body)) for r in responses]
    assert [s for s, _ in results] == [200, 400, 200]
    assert results[1][1] == {"error": expected_error("NaN", "inputs[0][1]"), "id": "n1"}
    assert [b["outputs"] for i, (_, b) in enumerate(results) if i != 1] == [[3], [7]]
    assert [r.event_id for r in responses] == ["n0", "n1", "n2"]
