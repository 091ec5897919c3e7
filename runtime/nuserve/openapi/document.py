"""The OpenAPI 3.0 document of a built graph: what ``GET /openapi.json`` and
``nuserve openapi`` answer.

It is generated from the frozen graph, never written by hand, so it lists what this function
serves: its models and versions, their custom operations, the protocols (Open Inference
Protocol tensors, MLRun rows, KServe v1), and for a flow the paths that reach its router
steps. A model whose spec is known (after ``load``) takes rows of its spec's width. Errors
the serving spec makes possible are listed where they happen: 504 with ``request_timeout``;
and, for ``nuserve serve`` only, 408 for a body sent too slowly and 401 when a bearer token
is required. A 405 happens to no operation listed: it answers a method a path does not list,
which OpenAPI gives no place to; the description says so, and ``components.responses`` holds
its body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from nuserve.openapi.flow_paths import flow_paths
from nuserve.openapi.operation_ids import OperationIds
from nuserve.openapi.responses import ERRORS, error_responses, ok, operation, with_errors
from nuserve.openapi.router_paths import PathItem, router_paths
from nuserve.openapi.schemas import nuserve_schemas, oip_schemas
from nuserve.routers.router import ModelRouter
from nuserve.version import __version__

if TYPE_CHECKING:
    from nuserve.server.graph_server import GraphServer

OPENAPI_VERSION = "3.0.3"
OPENAPI_PATH = "/openapi.json"
METRICS_PATH = "/metrics"
SERVER_ONLY = (METRICS_PATH, OPENAPI_PATH)
DESCRIPTION = """\
Served by nuserve. Inference bodies are Open Inference Protocol (v2) tensors or MLRun rows
(`{"inputs": [[...], ...]}`), answered in kind; `/v1/models/<m>:predict` speaks KServe v1.
Every error is `{"error": "...", "id": "..."}` with its HTTP status. A path answers the
methods listed for it (and HEAD where it lists GET); any other method is a 405 whose `Allow`
header names them."""


def build_document(
    server: GraphServer, serve_paths: bool = True, bearer_auth: bool = False
) -> dict[str, Any]:
    """The document of a server whose graph is frozen (``start()``, or ``root.freeze()``).

    ``serve_paths`` adds what only ``nuserve serve`` answers (``/metrics``, this document,
    and its 408 for slow bodies); ``bearer_auth`` says that it wants a bearer token.
    """
    ids = OperationIds()
    root = server.root
    paths = router_paths(root, ids) if isinstance(root, ModelRouter) else flow_paths(root, ids)
    if server.spec.request_timeout is not None:
        add_error(paths, 504, lambda path, op: path not in SERVER_ONLY)
    if serve_paths:
        add_error(paths, 408, lambda path, op: "requestBody" in op)
        paths.update(server_only_paths(ids))
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": server.spec.name, "version": _version(), "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": {**oip_schemas(), **nuserve_schemas()},
            "responses": error_responses(),
        },
    }
    if bearer_auth:
        add_error(paths, 401, lambda path, op: True)
        document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        document["security"] = [{"bearer": []}]
    return document


def document_json(
    server: GraphServer, serve_paths: bool = True, bearer_auth: bool = False
) -> bytes:
    """``build_document`` as JSON bytes (what ``GET /openapi.json`` sends)."""
    return orjson.dumps(build_document(server, serve_paths, bearer_auth))


def add_error(paths: dict[str, PathItem], status: int, where: Any) -> None:
    """Add error ``status`` to the operations for which ``where(path, operation)`` holds."""
    assert status in ERRORS, f"no description for status {status}"
    for path, item in paths.items():
        for op in item.values():
            if where(path, op) and str(status) not in op["responses"]:
                op["responses"] = with_errors(op["responses"], (status,))
                op["responses"] = dict(sorted(op["responses"].items()))


def server_only_paths(ids: OperationIds) -> dict[str, PathItem]:
    """``/metrics`` (Prometheus text) and ``/openapi.json`` (this document)."""
    metrics = {
        "description": "Prometheus text exposition (requests, latency, tracking counters)",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    return {
        METRICS_PATH: {
            "get": operation(
                ids("metrics"), "Metrics", with_errors({"200": metrics}, (500,)), tag="server"
            )
        },
        OPENAPI_PATH: {
            "get": operation(
                ids("openapi"),
                "This OpenAPI document",
                with_errors({"200": ok({"type": "object"}, "The OpenAPI 3.0 document")}, (503,)),
                tag="server",
            )
        },
    }


def _version() -> str:

    return __version__
