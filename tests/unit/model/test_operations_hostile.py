"""Operation names that reach for what is not an operation get a clean 404, and run nothing.

Custom operations are looked up in a registry built from ``op_<name>`` methods, never with
``getattr`` on the request's text; these tests hold that line for the names an attacker
tries first: dunders, private and lifecycle methods, the ``op_`` prefix itself, lookalike
unicode, encoded dots, very long names; by path and by body (stream triggers).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

import nuserve
from nuserve.event import Event
from nuserve.model.operations import operation_methods
from nuserve.server.mock import MockServer

CALLED: list[str] = []


class Guarded(nuserve.V2ModelServer):
    """One real operation, and every kind of attribute an operation name must not reach."""

    op_table: ClassVar[dict[str, int]] = {"not": 1}  # an op_ attribute that is no method
    secret = "s3cret"

    def load(self) -> None:
        CALLED.append("load")
        self.model = "guarded"

    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]

    def op_hello(self, event: Event) -> Any:
        return {"hello": event.body}

    def _private(self, event: Event) -> Any:
        CALLED.append("_private")

    def close(self) -> None:
        CALLED.append("close")

    def shutdown(self, event: Event) -> Any:
        CALLED.append("shutdown")


@pytest.fixture(scope="module")
def server() -> MockServer:
    fn = nuserve.new_function("hostile")
    fn.add_model("g", class_name=Guarded)
    fn.add_model("g:v1", class_name=Guarded)
    return fn.to_mock_server()


HOSTILE = [
    *("__class__", "__init__", "__dict__", "__call__", "__getattribute__", "_private"),
    *("load", "close", "shutdown", "secret", "model", "context", "metadata", "operations"),
    *("infer_async", "run_operation", "predict_batch", "check_ready", "get_model", "set_metric"),
    *("op_hello", "op_", "op_op_hello", "op_table", "table", "hello/x", "HELLO"),
    *("hell\u043e", "\uff48\uff45\uff4c\uff4c\uff4f", "hello\x00", "hello%00", "hello "),
    *(".", "..", "../g/hello", "%2e%2e", "%2e%2e/hello", "..%2fhello", "hello/../infer"),
    *("versions/v1/../../hello", "\u202ehello", "x" * 100_000),
]
"""Not one of them is a path of ``g``: 'hell\u043e' has a Cyrillic o, the next is full-width."""


def answer(server: MockServer, path: str, body: Any, method: str = "POST") -> Any:
    return server.test(path, body, method, silent=True, get_body=False, event_id="h-1")


@pytest.mark.parametrize("name", HOSTILE, ids=lambda n: repr(n)[:40])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_hostile_operation_paths_get_a_404_and_run_nothing(
    server: MockServer, name: str, method: str
) -> None:
    CALLED.clear()
    for prefix in ("/v2/models/g/", "/v2/models/g/versions/v1/"):
        response = answer(server, prefix + name, {"inputs": [1]}, method)
        assert response.status_code == 404, (name, response.body)
        assert sorted(response.body) == ["error", "id"] and response.body["id"] == "h-1"
        error = response.body["error"]
        assert error.endswith("(operations: infer, predict, explain, ready, hello)"), error
        assert len(error) < 300  # the name is quoted cut, not whole
        assert "s3cret" not in error
    assert CALLED == []
    assert server.test("/v2/models/g/hello", {"x": 1}) == {"hello": {"x": 1}}


@pytest.mark.parametrize("name", HOSTILE, ids=lambda n: repr(n)[:40])
def test_hostile_operation_names_in_the_body_get_a_4xx_and_run_nothing(
    server: MockServer, name: str
) -> None:
    CALLED.clear()
    response = answer(server, "/", {"model": "g", "operation": name, "inputs": [1]})
    assert response.status_code == (400 if "/" in name else 404), (name, response.body)
    assert sorted(response.body) == ["error", "id"]
    assert len(response.body["error"]) < 300
    assert CALLED == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("model", "g/versions/v1"), ("version", "v1/hello"), ("operation", "../g/infer")],
)
def test_body_routing_takes_names_not_paths(server: MockServer, field: str, value: str) -> None:
    body = {"model": "g", field: value, "inputs": [1]}
    response = answer(server, "/", body)
    assert (response.status_code, response.body["error"]) == (
        400,
        f"body field '{field}' must be a name without '/' (got {value!r})",
    )


def test_long_names_are_cut_in_messages(server: MockServer) -> None:
    error = answer(server, "/v2/models/" + "m" * 5000 + "/infer", {"inputs": [1]}).body["error"]
    assert error == f"model '{'m' * 79}... (5002 chars) not found (models: g)"
    error = answer(server, "/x" * 3000, {"inputs": [1]}, "PUT").body["error"]
    assert error.startswith("no route for PUT /x/x/x") and "... (6000 chars); model paths" in error


def test_head_reads_and_never_runs_inference(server: MockServer) -> None:
    """Found by the router fuzzer: ``HEAD /v2/models/g`` ran ``predict`` like a POST."""
    response = answer(server, "/v2/models/g", {"inputs": [1]}, "HEAD")
    assert response.status_code == 200 and response.body["name"] == "g"
    response = answer(server, "/v2/models/g/infer", {"inputs": [1]}, "HEAD")
    assert (response.status_code, response.body["error"]) == (
        405,
        "/v2/models/g/infer accepts POST, not HEAD",
    )


def test_the_registry_holds_only_callable_op_methods() -> None:
    assert operation_methods(Guarded) == {"hello": "op_hello"}
    assert Guarded.operations == {"hello": "op_hello"}


def test_a_model_without_explain_answers_404(server: MockServer) -> None:
    """Found by the router fuzzer: ``/explain`` of such a model was a 500."""
    response = answer(server, "/v2/models/g/explain", {"inputs": [1]})
    assert (response.status_code, response.body["error"]) == (
        404,
        "model 'g' does not explain: Guarded.explain is not implemented; override explain(request)",
    )
