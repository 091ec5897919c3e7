"""KServe v1 in full: ``inputs`` beside ``instances``, ``:explain``, ``GET /`` as KServe's
liveness, ``/v1/models/<m>`` as its client reads readiness."""

from __future__ import annotations

from typing import Any

import pytest

import nuserve


class Doubler(nuserve.V2ModelServer):
    def load(self) -> None:
        self.model = "x2"

    def predict(self, request: dict[str, Any]) -> Any:
        return [[2 * v for v in row] for row in request["inputs"]]

    def explain(self, request: dict[str, Any]) -> Any:
        return [{"why": "doubled", "row": row} for row in request["inputs"]]


class Plain(Doubler):
    explain = nuserve.V2ModelServer.explain


@pytest.fixture
def server() -> Any:
    fn = nuserve.new_function("v1")
    fn.add_model("d", class_name=Doubler)
    fn.add_model("p", class_name=Plain)
    return fn.to_mock_server(namespace={"Doubler": Doubler, "Plain": Plain})


def test_inputs_are_instances_too(server: Any) -> None:
    assert server.test("/v1/models/d:predict", {"instances": [[1, 2]]}) == {"predictions": [[2, 4]]}
    assert server.test("/v1/models/d:predict", {"inputs": [[1, 2]]}) == {"predictions": [[2, 4]]}
    bad = server.test("/v1/models/d:predict", {"inputs": 3}, silent=True, get_body=False)
    assert bad.status_code == 400
    assert bad.body["error"].startswith("KServe v1 request needs 'inputs' as a list (got int)")


def test_explain_answers_explanations_and_404s_a_model_that_does_not(server: Any) -> None:
    out = server.test("/v1/models/d:explain", {"instances": [[3]]})
    assert out == {"explanations": [{"why": "doubled", "row": [3]}]}
    err = server.test("/v1/models/p:explain", {"instances": [[3]]}, silent=True, get_body=False)
    assert err.status_code == 404
    assert "does not explain" in err.body["error"]


def test_get_root_is_alive_and_v1_model_readiness(server: Any) -> None:
    assert server.test("/", method="GET") == {"status": "alive", "ready": True, "models": 2}
    assert server.test("/v1/models/d", method="GET") == {"name": "d", "ready": True}
