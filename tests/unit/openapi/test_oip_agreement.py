"""The document's Open Inference Protocol parts agree with the protocol's own document.

nuserve keeps the protocol's schema names and may narrow them, never widen them: every
property the protocol names is there with the same type; a request schema requires what the
protocol requires and no more (a client that follows the protocol is never refused for a
missing field), a response schema requires at least that (a client may rely on it). The
answers themselves, produced in-process, are checked against the protocol's schemas too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from nuserve.openapi import build_document
from nuserve.openapi.schemas import OIP_SCHEMAS
from nuserve.protocols.oip import DATATYPES
from nuserve.server.graph_server import GraphServer
from tests.unit.openapi.documents import oip_spec, router_function, run

REQUESTS = frozenset({"inference_request", "request_input", "request_output", "parameters"})
OIP_DATATYPES = ("BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32",
                 "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16")  # fmt: skip
"""The protocol's tensor datatypes (its "Tensor Data Types" table; not in its YAML)."""
NUMPY_LACKS = {"BF16"}


@pytest.fixture(scope="module")
def theirs() -> dict[str, Any]:
    return oip_spec()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> GraphServer:
    return router_function(tmp_path_factory.mktemp("oip")).to_mock_server()


@pytest.fixture(scope="module")
def ours(server: GraphServer) -> dict[str, Any]:
    return build_document(server)


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """``(component name, schema)`` behind a ``$ref``; ``(None, schema)`` for an inline one."""
    ref = schema.get("$ref")
    if ref is None:
        return None, schema
    name = ref.rsplit("/", 1)[1]
    return name, document["components"]["schemas"][name]


def disagreements(
    ours: dict[str, Any],
    our_schema: dict[str, Any],
    theirs: dict[str, Any],
    their_schema: dict[str, Any],
    where: str,
    request: bool,
    seen: set[str],
) -> list[str]:
    """How ``our_schema`` fails to refine ``their_schema`` (empty: it does)."""
    our_name, mine = resolve(ours, our_schema)
    their_name, spec = resolve(theirs, their_schema)
    if their_name is not None:
        if their_name in seen:
            return []
        seen.add(their_name)
        where, request = their_name, their_name in REQUESTS if request else False
    problems: list[str] = []
    if "type" in spec and mine.get("type") != spec["type"]:
        problems.append(f"{where}: type {mine.get('type')!r}, the protocol's is {spec['type']!r}")
    for name, prop in spec.get("properties", {}).items():
        if name not in mine.get("properties", {}):
            problems.append(f"{where}: no property {name!r}")
            continue
        problems += disagreements(
            ours, mine["properties"][name], theirs, prop, f"{where}.{name}", request, seen
        )
    if "items" in spec:
        problems += disagreements(
            ours, mine.get("items", {}), theirs, spec["items"], f"{where}[]", request, seen
        )
    for i, option in enumerate(spec.get("anyOf", [])):
        candidates = mine.get("anyOf", [])
        if not any(
            not disagreements(ours, c, theirs, option, where, request, set(seen))
            for c in candidates
        ):
            problems.append(f"{where}: no alternative agrees with the protocol's anyOf[{i}]")
    required, theirs_required = set(mine.get("required", [])), set(spec.get("required", []))
    if request and required != theirs_required:
        problems.append(f"{where}: requires {sorted(required)}, not {sorted(theirs_required)}")
    if not request and not theirs_required <= required:
        problems.append(f"{where}: does not require {sorted(theirs_required - required)}")
    if "additionalProperties" in spec:
        problems += disagreements(
            ours, mine.get("additionalProperties", {}), theirs, spec["additionalProperties"],
            f"{where}{{}}", request, seen,
        )  # fmt: skip
    return problems


@pytest.mark.parametrize("name", OIP_SCHEMAS)
def test_each_protocol_schema_is_refined_not_widened(
    name: str, ours: dict[str, Any], theirs: dict[str, Any]
) -> None:
    ref = {"$ref": f"#/components/schemas/{name}"}
    assert disagreements(ours, ref, theirs, ref, name, True, set()) == []


def test_the_checker_sees_a_disagreement(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    ref = {"$ref": "#/components/schemas/inference_request"}
    schemas = ours["components"]["schemas"]
    broken = {**ours, "components": {"schemas": {**schemas}}}
    request_input = {**schemas["request_input"], "required": ["name", "data"]}
    broken["components"]["schemas"]["request_input"] = {
        **request_input,
        "properties": {**request_input["properties"], "shape": {"type": "string"}},
    }
    problems = disagreements(broken, ref, theirs, ref, "inference_request", True, set())
    assert problems == [
        "request_input.shape: type 'string', the protocol's is 'array'",
        "request_input.shape[]: type None, the protocol's is 'integer'",
        "request_input: requires ['data', 'name'], not ['data', 'datatype', 'name', 'shape']",
    ]


def test_datatypes_are_the_protocols_that_numpy_has(ours: dict[str, Any]) -> None:
    enum = ours["components"]["schemas"]["datatype"]["enum"]
    assert enum == list(DATATYPES)
    assert set(enum) == set(OIP_DATATYPES) - NUMPY_LACKS


def test_every_protocol_path_is_served_with_the_protocols_bodies(
    ours: dict[str, Any], theirs: dict[str, Any]
) -> None:
    """The protocol's paths, for model ``s`` version ``v2``: same methods, same bodies; its
    errors, where nuserve answers them, with a body that refines the protocol's."""
    for template, item in theirs["paths"].items():
        path = template.replace("${MODEL_NAME}", "s").replace("${MODEL_VERSION}", "v2")
        path = path.rstrip("/")  # /v2/ is answered as /v2 (the router drops a trailing slash)
        assert path in ours["paths"], template
        for method, operation in item.items():
            if method == "parameters":
                continue
            mine = ours["paths"][path][method]
            if "requestBody" in operation:
                theirs_body = operation["requestBody"]["content"]["application/json"]["schema"]
                ours_body = mine["requestBody"]["content"]["application/json"]["schema"]
                assert theirs_body in ours_body["anyOf"], path
            for status, answer in operation["responses"].items():
                if status not in mine["responses"]:  # an error nuserve never answers there
                    assert status != "200", path  # (server metadata cannot fail)
                    continue
                if "content" not in answer:
                    continue
                their_schema = answer["content"]["application/json"]["schema"]
                mine_answer = mine["responses"][status]
                if "$ref" in mine_answer:  # a shared error answer
                    mine_answer = ours["components"]["responses"][status]
                our_schema = mine_answer["content"]["application/json"]["schema"]
                if status.startswith("4"):  # nuserve's one error body, for every error
                    _, error = resolve(theirs, their_schema)
                    assert disagreements(ours, our_schema, theirs, error, path, False, set()) == []
                else:
                    assert their_schema == our_schema or their_schema in our_schema["anyOf"]


def test_answers_validate_against_the_protocols_own_schemas(
    server: GraphServer, theirs: dict[str, Any]
) -> None:
    def valid(name: str, body: Any) -> bool:
        schema = {"$ref": f"#/components/schemas/{name}", "components": theirs["components"]}
        return OAS30Validator(schema).is_valid(body)

    tensor = {"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}
    answers = {
        "inference_response": run(server, "post", "/v2/models/scored/infer", {"inputs": [tensor]}),
        "metadata_model_response": run(server, "get", "/v2/models/scored"),
        "metadata_server_response": run(server, "get", "/v2"),
        "inference_error_response": run(server, "post", "/v2/models/scored/infer", {"inputs": 1}),
    }
    for name, answer in answers.items():
        assert valid(name, answer.body), (name, answer.body)
    assert answers["inference_error_response"].status_code == 400
    assert answers["metadata_model_response"].body["inputs"][0]["name"] == "a"
    assert not valid(
        "inference_response", run(server, "post", "/v2/models/e/infer", {"inputs": [1]}).body
    )


def test_the_vendored_protocol_document_is_the_one_named() -> None:
    text = (Path(__file__).parent / "oip" / "open_inference_rest.yaml").read_text()
    assert "open-inference-protocol" in text and "openapi: 3.0.0" in text
