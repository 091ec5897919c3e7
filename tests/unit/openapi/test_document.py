"""The generated document: valid OpenAPI, the router's real paths, and answers that match it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from openapi_spec_validator import validate

import nuserve
from nuserve.openapi import build_document, document_json
from nuserve.server.graph_server import GraphServer
from tests.models import Echo
from tests.unit.openapi.documents import (
    check_answer,
    router_function,
    run,
    validator,
)

SERVER_ONLY = {"/metrics", "/openapi.json"}
ROWS = {"inputs": [[1.0, 2.0, 3.0, 4.0], [0, 0, 0, 1]]}
TENSOR = {
    "id": "t-1",
    "inputs": [
        {"name": "x", "shape": [2, 4], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6, 7, 8]}
    ],
}


@pytest.fixture
def server(tmp_path: Path) -> GraphServer:
    return router_function(tmp_path).to_mock_server()


@pytest.fixture
def document(server: GraphServer) -> dict[str, Any]:
    doc = build_document(server)
    validate(doc)
    return doc


def body_of(document: dict[str, Any], path: str) -> dict[str, Any]:
    return document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]


def test_paths_are_the_route_table_less_the_explain_of_models_without_one(
    server: GraphServer, document: dict[str, Any]
) -> None:
    table = set(server.root._table)  # what the router answers, path by path
    no_explain = {p for p in table if p.endswith("/explain") and p.split("/")[3] != "s"}
    assert no_explain == {
        "/v2/models/e/explain",
        "/v2/models/scored/explain",
        "/v2/models/texts/explain",
    }
    routed_by_body = {"/", "/v2/models/infer", "/v2/models/predict"}
    assert set(document["paths"]) - SERVER_ONLY == (table - no_explain) | routed_by_body


def test_versions_operations_and_kserve_v1(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for prefix in ("/v2/models/s", "/v2/models/s/versions/v2"):
        assert set(paths[prefix]) == {"get", "post"}
        for op in ("infer", "predict", "explain", "describe", "ping"):
            assert set(paths[f"{prefix}/{op}"]) == {"post"}, op
        assert set(paths[f"{prefix}/ready"]) == {"get"}
    assert "/v2/models/s/versions/v1/infer" not in paths  # "s" has no version v1
    assert paths["/v1/models/s:predict"]["post"]["operationId"] == "v1_predict_s"
    ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(ids) == len(set(ids))
    infer = paths["/v2/models/s/versions/v2/infer"]["post"]
    assert infer["operationId"] == "infer_s_v2"
    assert sorted(infer["responses"]) == ["200", "400", "408", "413", "500", "503"]
    assert infer["tags"] == ["s"]


def test_a_model_spec_gives_rows_of_its_width(document: dict[str, Any]) -> None:
    body = body_of(document, "/v2/models/scored/infer")
    oip, rows = body["anyOf"]
    assert oip == {"$ref": "#/components/schemas/inference_request"}
    row = rows["properties"]["inputs"]["items"]
    assert (row["minItems"], row["maxItems"], row["items"]) == (4, 4, {"type": "number"})
    v1 = body_of(document, "/v1/models/scored:predict")
    instances, inputs = v1["anyOf"]
    assert instances["properties"]["instances"] == rows["properties"]["inputs"]
    assert inputs["properties"]["inputs"] == rows["properties"]["inputs"]
    check = validator(document, body)
    assert check.is_valid(ROWS) and check.is_valid(TENSOR)
    assert not check.is_valid({"inputs": [[1, 2, 3]]})
    assert not check.is_valid({"inputs": [["a", 2, 3, 4]]})
    assert not check.is_valid({"inputs": []})
    # Without a spec, any rows: the model's own validate decides.
    generic = body_of(document, "/v2/models/e/infer")["anyOf"][1]
    assert generic == {"$ref": "#/components/schemas/rows_request"}


def test_a_model_reading_its_own_bodies_takes_any_object(document: dict[str, Any]) -> None:
    body = body_of(document, "/v2/models/texts/infer")
    assert body["type"] == "object" and "anyOf" not in body
    assert "Texts.preprocess" in body["description"]


def test_body_routing_names_the_models_versions_and_operations(document: dict[str, Any]) -> None:
    routing = body_of(document, "/")["allOf"][0]["properties"]
    assert routing["model"]["enum"] == ["e", "s", "scored", "texts"]
    assert routing["version"]["enum"] == ["v2"]
    assert routing["operation"]["enum"] == ["describe", "infer", "ping", "predict"]


def test_every_answer_is_one_the_document_gives(
    server: GraphServer, document: dict[str, Any]
) -> None:
    """Each documented operation, asked well and badly, in-process."""
    bodies = [
        ROWS,
        TENSOR,
        {"inputs": [[1, 2]]},
        {"nothing": 1},
        b"{not json",
        None,
        {"text": "hi"},
    ]
    problems: list[str] = []
    asked = 0
    for path, item in document["paths"].items():
        if path in SERVER_ONLY:
            continue  # answered by nuserve serve's app, not the graph (see test_served_route)
        for method in item:
            for body in bodies if method == "post" else [None]:
                problems += check_answer(document, path, method, run(server, method, path, body))
                asked += 1
    assert not problems, "\n".join(problems)
    assert asked > 150


def test_every_other_method_is_a_405_allowing_what_the_document_lists(
    server: GraphServer, document: dict[str, Any]
) -> None:
    """The route table and the document agree on methods too: a method a path does not list
    runs nothing and names, in ``Allow``, the methods the path lists (HEAD with GET)."""
    refused = 0
    for path, item in document["paths"].items():
        if path in SERVER_ONLY:
            continue  # answered by nuserve serve's app, not the graph (see test_served_route)
        listed = {method.upper() for method in item}
        allow = ", ".join(sorted(listed | ({"HEAD"} if "GET" in listed else set())))
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE", "TRACE", "OPTIONS"} - listed:
            response = run(server, method, path, ROWS)
            assert (response.status_code, response.headers) == (405, {"Allow": allow}), (
                method,
                path,
                response.body,
            )
            refused += 1
    assert refused > 150


def test_an_oip_answer_is_tensors_and_a_rows_answer_rows(
    server: GraphServer, document: dict[str, Any]
) -> None:
    components = document["components"]["schemas"]
    oip = run(server, "post", "/v2/models/scored/infer", TENSOR)
    assert oip.status_code == 200, oip.body
    assert validator(document, components["inference_response"]).is_valid(oip.body)
    assert oip.body["outputs"][0]["datatype"] == "FP32"
    rows = run(server, "post", "/v2/models/scored/infer", ROWS)
    assert rows.body["outputs"] == [10.0, 1]
    assert validator(document, components["rows_response"]).is_valid(rows.body)
    assert not validator(document, components["inference_response"]).is_valid(rows.body)


def test_serving_options_add_their_errors(tmp_path: Path) -> None:
    fn = router_function(tmp_path)
    fn.spec.request_timeout = 2.5
    server = fn.to_mock_server()
    doc = build_document(server, bearer_auth=True)
    validate(doc)
    assert doc["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in doc["paths"].items():
        for op in item.values():
            assert "401" in op["responses"], path
            assert ("504" in op["responses"]) == (path not in SERVER_ONLY), path
    nuclio = build_document(server, serve_paths=False)
    assert SERVER_ONLY.isdisjoint(nuclio["paths"])
    assert all("408" not in op["responses"] for i in nuclio["paths"].values() for op in i.values())
    assert orjson.loads(document_json(server, serve_paths=False)) == nuclio


def test_a_router_class_and_a_remote_model(tmp_path: Path) -> None:
    fn = nuserve.new_function("ens")
    fn.set_topology("router", class_name="VotingEnsemble", name="vote")
    fn.add_model("a", class_name=Echo)
    fn.add_model("far", model_url="http://127.0.0.1:9/v2/models/x", retries=0)
    doc = build_document(fn.to_mock_server())
    validate(doc)
    infer = doc["paths"]["/v2/models/vote/infer"]["post"]["responses"]
    assert {"502", "504"} <= set(infer)
    assert {"502", "504"} <= set(doc["paths"]["/v2/models/far/infer"]["post"]["responses"])
    assert "502" not in doc["paths"]["/v2/models/a/infer"]["post"]["responses"]
    assert "/v2/models/far/explain" in doc["paths"]  # the remote server decides
    assert "/v2/models/vote/explain" not in doc["paths"]  # "a" does not explain


def test_a_flow_documents_its_entry_and_its_router_steps_models() -> None:
    fn = nuserve.new_function("flowdoc")
    graph = fn.set_topology("flow", engine="sync")
    graph.to(handler="tests.unit.graph.flow_steps.inc", name="first", input_path="x",
             result_path="x").to("*", name="router")  # fmt: skip
    fn.add_model("echo", class_name=Echo, router_step="router")
    server = fn.to_mock_server()
    doc = build_document(server)
    validate(doc)
    assert set(doc["paths"]) - SERVER_ONLY == {
        "/",
        "/v2/models/echo/infer",
        "/v2/models/echo/predict",
    }
    answer = run(server, "post", "/v2/models/echo/infer", {"x": 1, "inputs": [5]})
    assert answer.status_code == 200, answer.body
    assert check_answer(doc, "/v2/models/echo/infer", "post", answer) == []
    for body, status in (({"inputs": [5]}, 400), ({"x": "a"}, 500)):  # no x; x not a number
        failed = run(server, "post", "/", body)
        assert failed.status_code == status, failed.body
        assert check_answer(doc, "/", "post", failed) == []
