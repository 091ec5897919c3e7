"""MockServer.test(): MLRun's signature, statuses, raw bodies, and every error status code."""

from __future__ import annotations

import pytest

import nuserve
from nuserve.server.mock import MockResponseError
from tests.models import Echo, Raising


@pytest.fixture
def server():
    fn = nuserve.new_function("mock")
    fn.add_model("e", class_name=Echo)
    fn.add_model("bad", class_name=Raising)
    fn.spec.max_body_size = 1000
    return fn.to_mock_server()


def test_get_body_false_returns_the_response(server):
    resp = server.test("/v2/models/e/infer", {"inputs": [1]}, get_body=False)
    assert isinstance(resp, nuserve.Response)
    assert (resp.status_code, resp.content_type) == (200, "application/json")
    assert resp.body["outputs"] == [1]


def test_raises_on_error_unless_silent(server):
    with pytest.raises(MockResponseError, match=r"request failed \(500\): model 'bad' raised"):
        server.test("/v2/models/bad/infer", {"inputs": [1]})
    answer = server.test("/v2/models/bad/infer", {"inputs": [1]}, silent=True)
    assert answer.status_code == 500 and answer.body["error"]  # MLRun: the Response


def test_string_and_bytes_bodies_are_decoded(server):
    assert server.test("/v2/models/e/infer", '{"inputs": [2]}')["outputs"] == [2]
    assert server.test("/v2/models/e/infer", b'{"inputs": [3]}')["outputs"] == [3]


@pytest.mark.parametrize(
    ("body", "method", "path", "status", "message"),
    [
        (b"{not json", "", "/v2/models/e/infer", 400, "request body is not valid JSON: "),
        (b"[1, 2]", "", "/v2/models/e/infer", 400, "request body must be a JSON object (got list)"),
        (b"", "POST", "/v2/models/e/infer", 400, "request body is empty"),
        ({"rows": [1]}, "", "/v2/models/e/infer", 400, "request to model 'e' has no 'inputs'"),
        ({"inputs": [1]}, "", "/v2/models/x/infer", 404, "model 'x' not found"),
        ({"inputs": [1]}, "PUT", "/v2/models", 405, "/v2/models accepts GET or HEAD, not PUT"),
        (b'{"inputs": [' + b"1," * 600 + b"1]}", "", "/v2/models/e/infer", 413,
         "request body is 1215 bytes, over the limit of 1000 bytes"),
        ({"inputs": [1]}, "", "/v2/models/bad/infer", 500,
         "model 'bad' raised in infer: ValueError: cannot handle [1]"),
    ],
)
def test_every_error_status_then_a_good_request(server, body, method, path, status, message):
    resp = server.test(path, body, method=method, silent=True, get_body=False)
    assert resp.status_code == status
    assert set(resp.body) == {"error", "id"}
    assert resp.body["error"].startswith(message)
    assert server.test("/v2/models/e/infer", {"inputs": [9]})["outputs"] == [9]


def test_event_id_trigger_offset_and_time_reach_the_event():
    seen = {}

    class Spy(Echo):
        def op_spy(self, event):
            seen.update(id=event.id, trigger=event.trigger, offset=event.offset, time=event.time)
            return "ok"

    fn = nuserve.new_function("spy")
    fn.add_model("s", class_name=Spy)
    server = fn.to_mock_server()
    server.test("/v2/models/s/spy", {}, event_id="e1", trigger={"kind": "kafka"}, offset=5, time=1.5)
    assert seen == {"id": "e1", "trigger": "kafka", "offset": 5, "time": 1.5}


def _type_flow(default_content_type=None):
    import nuserve as mlrun

    fn = mlrun.new_function("types")
    if default_content_type:
        fn.spec.default_content_type = default_content_type
    fn.set_topology("flow", engine="sync").to(name="t", handler=lambda b: type(b).__name__)
    return fn.to_mock_server()


def test_bodies_are_decoded_by_content_type_as_in_mlrun():
    server = _type_flow()
    assert server.test(body="[1,2]") == "list"  # no type: JSON if it parses
    assert server.test(body="xx [1,2]") == "str"  # no type: kept when it does not
    assert server.test(body="[1,2]", content_type="application/json") == "list"
    assert server.test(body="[1,2]", content_type="text/plain") == "str"
    bad = server.test(body="xx", content_type="application/json", silent=True)
    assert bad.status_code == 400 and "not valid JSON" in bad.body["error"]


def test_the_default_content_type_applies_to_events_without_one():
    server = _type_flow("application/json")
    assert server.test(body=b"[1]") == "list"
    assert server.default_content_type == "application/json"


def test_wait_for_completion_returns_at_once():
    server = _type_flow()
    server.test(body=1)
    assert server.wait_for_completion() is None
