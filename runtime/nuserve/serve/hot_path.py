"""The hot path of ``nuserve serve``: a JSON POST to the infer path of a plain model.

Most requests a worker answers are one shape: ``POST /v2/models/<m>/infer`` (or ``predict``),
``Content-Type: application/json``, to a model (sync, async or batching) that is not tracked,
with no request timeout. For those the app skips the layers a general request needs and
gives the same answer: no Nuclio-style header dict (the raw header list is looked up once,
as a dict), no trip through ``GraphServer.run_async`` and the router (the path names the
model, found once at startup), no general encoder (a JSON object body is dumped and its head
written here). The model's own ``infer`` (or ``infer_async``) runs as it always does: hooks,
checks, protocols, errors.

Anything else goes the general way, with nothing lost: another content type (or
``--strict-content-type``), a repeated header, the binary extension, a body that does not parse
as a JSON object; and, once the model has answered, an answer that is not a JSON object, has
headers of its own, or is a 5xx (its message is redacted there). tests/unit/serve/
test_hot_path.py holds both ways to the same answers.
"""

from __future__ import annotations

from typing import NamedTuple

from nuserve.model.v2_model_server import V2ModelServer
from nuserve.protocols import Protocol
from nuserve.routers.router import ModelRouter
from nuserve.server.graph_server import GraphServer

HOT_OPS = {"": "infer", "infer": "infer", "predict": "predict"}
"""Router operations of a model path the hot path answers, and the operation each runs."""


class HotRoute(NamedTuple):
    """A path the hot path answers: the model, the operation, the path's protocol, and
    whether the model's ``infer_async`` is awaited (async hooks, adaptive batching)."""

    model: V2ModelServer
    operation: str
    protocol: Protocol | None
    is_async: bool


def hot_routes(server: GraphServer) -> dict[str, HotRoute]:
    """The paths whose JSON POSTs take the hot path: those of a plain ``ModelRouter`` that
    lead to an untracked, unstreamed model whose class keeps ``V2ModelServer.infer`` and
    ``infer_async``; none when the function has a request timeout (its lanes run each
    call)."""
    root = server.root
    if server.lanes is not None or not isinstance(root, ModelRouter):
        return {}
    if type(root).dispatch is not ModelRouter.dispatch:
        return {}  # a router class of its own picks models its own way
    routes: dict[str, HotRoute] = {}
    for path, target in root.targets().items():
        model, operation = target.model, HOT_OPS.get(target.op)
        if model is None or operation is None or target.handler is not None:
            continue
        if model.tracker is not None or model.streaming:
            continue
        cls = type(model)
        if cls.infer is not V2ModelServer.infer or cls.infer_async is not V2ModelServer.infer_async:
            continue
        routes[path] = HotRoute(model, operation, target.protocol, model.is_async)
    return routes


def header_dict(raw_headers: list[tuple[bytes, bytes]]) -> dict[bytes, bytes] | None:
    """The raw headers as one dict (lower-case names, as uvicorn gives them), or ``None``
    when a name repeats (the general way joins repeats as Nuclio does)."""
    found: dict[bytes, bytes] = dict(raw_headers)
    return found if len(found) == len(raw_headers) else None


def usable(headers: dict[bytes, bytes]) -> bool:
    """Whether the request's headers allow the hot path: a JSON body, no binary tensors
    (``--strict-content-type`` servers have no hot routes: it refuses before reading)."""
    return (
        headers.get(b"content-type") == b"application/json"
        and b"inference-header-content-length" not in headers
    )
