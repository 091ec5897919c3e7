"""Binary OIP tensors through the Nuclio handler: bytes bodies as Nuclio's HTTP trigger
hands them over, alone and in trigger batch mode (merged into one predict)."""

from __future__ import annotations

import logging

import nuclio_sdk
import numpy as np
import orjson
import pytest
from nuclio_sdk.test import Platform

import handler as root_handler
import nuserve
from nuserve.nuclio.spec_env import encode_spec

HEADER = "Inference-Header-Content-Length"


@pytest.fixture
def platform(monkeypatch):
    fn = nuserve.new_function("nuc")
    fn.add_model("e", class_name="tests.models.Echo")
    fn.add_model("b", class_name="tests.models.Echo", max_batch_size=16, max_batch_time_ms=1)
    monkeypatch.setenv("NUSERVE_SPEC", encode_spec(fn.spec.serving_spec().to_dict()))
    monkeypatch.delenv("NUSERVE_SPEC_PATH", raising=False)
    yield Platform()
    logging.getLogger("nuserve").handlers.clear()
    logging.getLogger("nuserve").propagate = True


def binary_event(path: str, array: np.ndarray, binary_out: bool = True) -> nuclio_sdk.Event:
    tensor = {
        "name": "x",
        "datatype": "FP32",
        "shape": list(array.shape),
        "parameters": {"binary_data_size": array.nbytes},
    }
    head = orjson.dumps({"inputs": [tensor], "parameters": {"binary_data_output": binary_out}})
    return nuclio_sdk.Event(
        body=head + array.tobytes(),
        content_type="application/octet-stream",
        path=path,
        method="POST",
        headers={HEADER: str(len(head)), "Content-Type": "application/octet-stream"},
        trigger=nuclio_sdk.TriggerInfo("http", "http"),
    )


def unpack(response: nuclio_sdk.Response) -> tuple[dict, bytes]:
    assert response.status_code == 200, response.body
    length = int(response.headers[HEADER])
    return orjson.loads(response.body[:length]), response.body[length:]


def test_a_binary_request_gets_a_binary_answer(platform) -> None:
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    response = platform.call_handler(root_handler.handler, binary_event("/v2/models/e/infer", array))
    assert response.content_type == "application/octet-stream"
    head, rest = unpack(response)
    assert head["outputs"][0]["parameters"] == {"binary_data_size": 24}
    assert np.frombuffer(rest, np.float32).reshape(2, 3).tolist() == array.tolist()


def test_trigger_batch_mode_merges_binary_requests_and_splits_the_answers(platform) -> None:
    arrays = [np.full((1, 2), i, dtype=np.float32) for i in range(3)]
    events = [binary_event("/v2/models/b/infer", a) for a in arrays]
    bad = binary_event("/v2/models/b/infer", arrays[0])
    bad.body = bad.body[:-1]
    events.append(bad)
    for i, event in enumerate(events):
        event.id = f"n{i}"
    responses = platform.call_handler(root_handler.handler, events)
    for i, response in enumerate(responses[:3]):
        _, rest = unpack(response)
        assert np.frombuffer(rest, np.float32).tolist() == [i, i]
    assert responses[3].status_code == 400
    assert b"runs past the end of the body" in responses[3].body
    assert [r.event_id for r in responses] == [f"n{i}" for i in range(4)]
