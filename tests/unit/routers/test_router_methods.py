"""ModelRouter and HTTP methods: POST runs, GET and HEAD read, anything else is a 405.

Found by the OpenAPI conformance run: ``TRACE /v2/models/iris/infer``, ``PATCH`` or ``PUT``
ran inference, and ``GET`` ran custom operations. Each case checks the status, the JSON
error body, the ``Allow`` header, and that no model code ran.
"""

from __future__ import annotations

from typing import Any

import pytest

import nuserve
from nuserve.event import Event
from nuserve.server.mock import MockServer

RAN: list[str] = []


class Spy(nuserve.V2ModelServer):
    """Records every predict and operation it runs."""

    def load(self) -> None:
        self.model = "spy"

    def predict(self, request: dict[str, Any]) -> Any:
        RAN.append("predict")
        return request["inputs"]

    def explain(self, request: dict[str, Any]) -> Any:
        RAN.append("explain")
        return request["inputs"]

    def op_note(self, event: Event) -> Any:
        RAN.append("op_note")
        return {"noted": event.body}


@pytest.fixture(scope="module")
def server() -> MockServer:
    fn = nuserve.new_function("methods")
    fn.add_model("s", class_name=Spy)
    fn.add_model("s:v1", class_name=Spy)
    return fn.to_mock_server()


def answer(server: MockServer, method: str, path: str, body: Any = None) -> Any:
    body = {"inputs": [1]} if body is None else body
    return server.test(path, body, method, silent=True, get_body=False, event_id="m-1")


RUNS = [
    *("/v2/models/s/infer", "/v2/models/s/predict", "/v2/models/s/explain"),
    *("/v2/models/s/versions/v1/infer", "/v1/models/s:predict", "/v2/models/s/note"),
    *("/v2/models/s/versions/v1/note", "/v2/models/infer", "/v2/models/predict"),
]
"""Paths that run model code, with POST only."""
READS = ["/v2/models/s/ready", "/v1/models/s", "/v2/health/ready", "/v2/health/live", "/v2"]
READS += ["/v2/models", "/v2/models/s/versions/v1/ready"]
"""Paths that read, with GET and HEAD only."""
BOTH = ["/v2/models/s", "/v2/models/s/versions/v1", "/"]
"""Paths that read with GET and HEAD, and run with POST."""
OTHER_METHODS = ["PUT", "PATCH", "DELETE", "TRACE", "OPTIONS", "CONNECT", "QUERY", "get", "Post"]


def assert_refused(response: Any, path: str, method: str, allow: str) -> None:
    assert response.status_code == 405, (method, path, response.body)
    assert response.headers == {"Allow": allow}
    assert sorted(response.body) == ["error", "id"] and response.body["id"] == "m-1"
    accepts = {"POST": "POST", "GET, HEAD": "GET or HEAD", "GET, HEAD, POST": "GET, HEAD or POST"}
    assert response.body["error"] == f"{path} accepts {accepts[allow]}, not {method}"


@pytest.mark.parametrize("path", RUNS)
@pytest.mark.parametrize("method", [*OTHER_METHODS, "GET", "HEAD"])
def test_paths_that_run_model_code_take_post_only(
    server: MockServer, path: str, method: str
) -> None:
    RAN.clear()
    assert_refused(
        answer(server, method, path, {"model": "s", "inputs": [1]}), path, method, "POST"
    )
    assert RAN == []


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("method", [*OTHER_METHODS, "POST"])
def test_paths_that_read_take_get_and_head_only(server: MockServer, path: str, method: str) -> None:
    RAN.clear()
    assert_refused(answer(server, method, path), path, method, "GET, HEAD")
    assert RAN == []


@pytest.mark.parametrize("path", BOTH)
@pytest.mark.parametrize("method", OTHER_METHODS)
def test_paths_that_read_and_run_take_get_head_and_post(
    server: MockServer, path: str, method: str
) -> None:
    RAN.clear()
    assert_refused(answer(server, method, path, {"model": "s", "inputs": [1]}), path, method,
                   "GET, HEAD, POST")  # fmt: skip
    assert RAN == []


def test_what_each_method_runs(server: MockServer) -> None:
    RAN.clear()
    assert answer(server, "POST", "/v2/models/s/infer").body["outputs"] == [1]
    assert answer(server, "POST", "/v2/models/s").body["outputs"] == [1]
    assert answer(server, "POST", "/v1/models/s:predict", {"instances": [2]}).body == {
        "predictions": [2]
    }
    assert answer(server, "POST", "/v2/models/s/note", {"x": 1}).body == {"noted": {"x": 1}}
    assert answer(server, "POST", "/", {"model": "s", "operation": "note"}).body["noted"]
    assert RAN == ["predict", "predict", "predict", "op_note", "op_note"]
    RAN.clear()
    for method in ("GET", "HEAD"):
        assert answer(server, method, "/v2/models/s").body["name"] == "s"
        assert answer(server, method, "/v2/models/s/ready").body == {"name": "s", "ready": True}
        assert answer(server, method, "/").body == {"status": "alive", "ready": True, "models": 2}
    assert RAN == []


def test_a_query_string_or_trailing_slash_gets_the_same_405(server: MockServer) -> None:
    for path in ("/v2/models/s/infer?x=1", "/v2/models/s/infer/"):
        response = answer(server, "TRACE", path)
        assert (response.status_code, response.headers) == (405, {"Allow": "POST"})


def test_unknown_paths_stay_404_whatever_the_method(server: MockServer) -> None:
    for method in ("TRACE", "GET", "POST"):
        response = answer(server, method, "/v2/models/s/nope")
        assert response.status_code == 404 and response.headers == {}


def test_the_body_routes_only_what_post_runs(server: MockServer) -> None:
    """``POST /`` naming the ``ready`` operation was a 405 that said ``/`` takes GET."""
    response = answer(server, "POST", "/", {"model": "s", "operation": "ready"})
    assert (response.status_code, response.body["error"]) == (
        400,
        "body field 'operation' is 'ready', which is read with GET /v2/models/s/ready; "
        "a body runs infer, predict, explain or an operation (operations: note)",
    )


def test_a_router_class_routes_by_body_only_what_post_runs() -> None:
    fn = nuserve.new_function("ensemble")
    fn.set_topology("router", class_name="VotingEnsemble", name="ens")
    fn.add_model("a", class_name=Spy)
    server = fn.to_mock_server()
    response = answer(server, "POST", "/", {"operation": "ready", "inputs": [1]})
    assert (response.status_code, response.body["error"]) == (
        400,
        "body field 'operation' is 'ready', which is read with GET /v2/models/ens/ready; "
        "a body runs infer, predict, explain or an operation (operations: none)",
    )
    response = answer(server, "TRACE", "/v2/models/ens/infer")
    assert (response.status_code, response.headers) == (405, {"Allow": "POST"})


def test_batch_mode_answers_other_methods_405_and_runs_nothing(server: MockServer) -> None:
    RAN.clear()
    events = [Event({"inputs": [1]}, "/v2/models/s/infer", m) for m in ("PUT", "POST")]
    responses = server.run_batch(events)
    assert [r.status_code for r in responses] == [405, 200]
    assert responses[0].headers == {"Allow": "POST"}
    assert RAN == ["predict"]
