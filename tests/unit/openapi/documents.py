"""Helpers of the OpenAPI tests: functions to document, and bodies checked against documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator

import nuserve
from nuserve.event import Event, Response
from nuserve.model.artifacts import Feature, ModelSpec
from nuserve.openapi import build_document
from nuserve.server.graph_server import GraphServer
from tests.models import Echo, Summer

OIP_SPEC = Path(__file__).parent / "oip" / "open_inference_rest.yaml"


def oip_spec() -> dict[str, Any]:
    """The Open Inference Protocol's own OpenAPI document (vendored, unchanged)."""
    return yaml.safe_load(OIP_SPEC.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


class Scored(nuserve.V2ModelServer):
    """A model with a spec (four float features), loaded from its artifact directory."""

    def load(self) -> None:
        self.get_model(".pkl")
        self.model = "scored"

    def predict(self, request: dict[str, Any]) -> Any:
        return [sum(row) for row in request["inputs"]]


class Texts(nuserve.V2ModelServer):
    """Reads ``{"text": ...}`` bodies in its own preprocess."""

    def load(self) -> None:
        self.model = "texts"

    def preprocess(self, request: dict[str, Any], operation: str) -> dict[str, Any]:
        return {"inputs": [str(request.get("text", ""))]}

    def predict(self, request: dict[str, Any]) -> Any:
        return [len(t) for t in request["inputs"]]


def scored_artifact(directory: Path) -> Path:
    """An artifact directory whose spec lists four float features."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.pkl").write_bytes(b"not read")
    names = ["a", "b", "c", "d"]
    ModelSpec(
        model_file="model.pkl",
        inputs=[Feature(n, "float", [1]) for n in names],
        outputs=[Feature("sum", "float", [1])],
    ).save(directory)
    return directory


def router_function(tmp_path: Path) -> nuserve.ServingFunction:
    """Versions, custom operations, explain, a spec'd model and one with its own bodies."""
    fn = nuserve.new_function("doc")
    fn.add_model("s", class_name=Summer)
    fn.add_model("s:v2", class_name=Summer)
    fn.add_model("e", class_name=Echo)
    fn.add_model("scored", class_name=Scored, model_path=str(scored_artifact(tmp_path / "m")))
    fn.add_model("texts", class_name=Texts)
    return fn


def document_of(server: GraphServer, **options: Any) -> dict[str, Any]:
    return build_document(server, **options)


def validator(document: dict[str, Any], schema: dict[str, Any]) -> OAS30Validator:
    """A validator of ``schema`` whose ``#/components/...`` references resolve in ``document``."""
    return OAS30Validator({"allOf": [schema], "components": document["components"]})


def response_schema(document: dict[str, Any], path: str, method: str, status: int) -> Any:
    """The JSON schema the document gives for that answer; ``None`` when it lists no such
    status (a test failure: the server answered what the document does not say)."""
    responses = document["paths"][path][method]["responses"]
    answer = responses.get(str(status)) or responses.get("default")
    if answer is None:
        return None
    if "$ref" in answer:
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    return answer["content"]["application/json"]["schema"]


def check_answer(document: dict[str, Any], path: str, method: str, response: Response) -> list[str]:
    """What is wrong with ``response`` as the answer to ``method path`` (empty: nothing)."""
    schema = response_schema(document, path, method, response.status_code)
    if schema is None:
        listed = sorted(document["paths"][path][method]["responses"])
        return [f"{method.upper()} {path}: status {response.status_code} is not listed {listed}"]
    errors = validator(document, schema).iter_errors(response.body)
    return [f"{method.upper()} {path} -> {response.status_code}: {e.message}" for e in errors]


def run(server: GraphServer, method: str, path: str, body: Any = None) -> Response:
    return server.run(Event(body, path, method.upper(), content_type="application/json"))
