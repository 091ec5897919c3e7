"""The paths a ``ModelRouter`` serves, as its route table (``freeze``) lays them out.

Per model the table holds ``/v2/models/<m>[/versions/<v>]`` (GET: metadata, POST: infer),
then ``/infer``, ``/predict``, ``/explain``, ``/ready`` and one path per custom operation
under it; the default version also answers at the unversioned prefix and at KServe v1's
``/v1/models/<m>[:predict]``. The server paths (``/v2``, health, listing) and the paths routed
by body (``/``, ``/v2/models/infer``, ``/v2/models/predict``) come first. Paths are concrete,
one per model name, since each model has its own operations and input schema.

Left out on purpose: ``/explain`` of a model that does not implement ``explain`` (the router
answers it with the 500 of ``NotImplementedError``, which is no API), and HEAD, which every
GET path answers too. The methods listed are all a path takes (``ModelRouter.dispatch``):
POST for inference and custom operations, GET for what reads; any other is answered 405 with
``Allow``, which no listed operation answers, so none lists it.
"""

from __future__ import annotations

from collections.abc import Iterable

from nuserve.model.v2_model_server import V2ModelServer
from nuserve.openapi.operation_ids import OperationIds
from nuserve.openapi.responses import (
    INFER_ERRORS,
    REMOTE_ERRORS,
    Operation,
    ok,
    operation,
    with_errors,
)
from nuserve.openapi.schemas import Schema, ref, rows_for_features
from nuserve.routers.endpoint import RouterEndpoint
from nuserve.routers.remote import RemoteModel
from nuserve.routers.router import ModelRouter

PathItem = dict[str, Operation]
"""An OpenAPI path item: method → operation."""

ANY_JSON: Schema = {"description": "any JSON value"}
SERVER_TAG = "server"


def router_paths(router: ModelRouter, ids: OperationIds) -> dict[str, PathItem]:
    """Every path of a frozen router: the server's, then each model's."""
    paths = server_paths(router, ids)
    for name, versions in router.versions.items():
        default = router.default_version[name]
        for version, model in versions.items():
            prefixes = [f"/v2/models/{name}/versions/{version}"] if version else []
            if version == default:
                prefixes.append(f"/v2/models/{name}")
                paths.update(v1_paths(model, ids))
            for prefix in prefixes:
                paths.update(model_paths(model, prefix, ids))
    return paths


def server_paths(router: ModelRouter, ids: OperationIds) -> dict[str, PathItem]:
    """``/``, ``/v2``, health, the model list and the paths routed by body."""

    def get(op_id: str, summary: str, schema: str, errors: tuple[int, ...] = ()) -> PathItem:
        responses = with_errors({"200": ok(ref(schema))}, errors)
        return {"get": operation(ids(op_id), summary, responses, tag=SERVER_TAG)}

    def routed(op_id: str) -> Operation:
        return body_routed(router, ids(op_id))

    ready = "Server ready: every model is loaded (503 names those that are not)"
    return {
        "/": {
            **get(
                "root_alive",
                "Server alive (KServe v1's liveness), and whether it is ready",
                "server_alive",
            ),
            "post": routed("post_root"),
        },
        "/v2": get("server_metadata", "Server metadata", "metadata_server_response"),
        "/v2/health/live": get("server_live", "Server live", "server_live"),
        "/v2/health/ready": get("server_ready", ready, "server_ready", (503,)),
        "/v2/models": get("list_models", "The models, their versions and routers", "model_list"),
        "/v2/models/infer": {"post": routed("post_models_infer")},
        "/v2/models/predict": {"post": routed("post_models_predict")},
    }


def body_routed(router: ModelRouter, operation_id: str) -> Operation:
    """A request whose body names its model, version and operation (stream triggers send
    these): the routing fields beside the body the target takes. With one model to reach,
    that is the model's own inference body; with several, any JSON object."""
    models = list(router.models())
    versions = sorted({m.version for m in models if m.version})
    operations = {"infer", "predict"} | {op for m in models for op in m.operations}
    if all(explains(m) for m in models):
        operations.add("explain")
    routing: Schema = {
        "type": "object",
        "properties": {
            "model": {"type": "string", "enum": sorted(router.versions)},
            **({"version": {"type": "string", "enum": versions}} if versions else {}),
            "operation": {"type": "string", "enum": sorted(operations)},
        },
    }
    body: Schema = {
        "description": "an inference body (or an operation's) that names its target; "
        "'model' may be left out when there is one model (or a router) to reach"
    }
    reachable = [m for m in models if not isinstance(m, RouterEndpoint)]
    if len(router.versions) == 1 and len(reachable) == 1:
        body["allOf"] = [routing, inference_body(reachable[0])]
    else:
        body["allOf"] = [routing]
    errors = (400, 404, *INFER_ERRORS[1:], *_remote_errors(models))
    return operation(
        operation_id,
        "Routed by body: model, version and operation come from the body",
        with_errors({"200": ok(ANY_JSON)}, errors),
        tag=SERVER_TAG,
        body=body,
    )


def model_paths(model: V2ModelServer, prefix: str, ids: OperationIds) -> dict[str, PathItem]:
    """The paths under one model prefix (``/v2/models/<m>`` or ``.../versions/<v>``)."""
    tag = model.name
    suffix = (model.name, model.version if prefix.endswith(f"/versions/{model.version}") else "")
    errors = (*INFER_ERRORS, *_remote_errors([model]))

    def infer(op: str, summary: str) -> Operation:
        return operation(
            ids(op, *suffix),
            summary,
            with_errors({"200": ok(inference_response())}, errors),
            tag=tag,
            body=inference_body(model),
        )

    metadata = operation(
        ids("metadata", *suffix),
        "Model metadata (the Open Inference Protocol's, with the model's operations)",
        {"200": ok(ref("metadata_model_response"))},
        tag=tag,
    )
    paths: dict[str, PathItem] = {
        prefix: {"get": metadata, "post": infer("post", "Inference (as /infer)")},
        f"{prefix}/infer": {"post": infer("infer", "Inference")},
        f"{prefix}/predict": {"post": infer("predict", "Inference (MLRun's name)")},
    }
    if explains(model):
        paths[f"{prefix}/explain"] = {"post": infer("explain", "Explanation of a prediction")}
    paths[f"{prefix}/ready"] = {
        "get": operation(
            ids("ready", *suffix),
            "Model ready (503 while it loads, or when its load failed)",
            with_errors({"200": ok(ref("model_ready"))}, (503,)),
            tag=tag,
        )
    }
    for op in sorted(model.operations):
        paths.setdefault(f"{prefix}/{op}", {"post": custom_operation(model, op, ids(op, *suffix))})
    return paths


def v1_paths(model: V2ModelServer, ids: OperationIds) -> dict[str, PathItem]:
    """KServe v1: ``{"instances": [...]}`` (or ``inputs``) in, ``{"predictions": [...]}`` out;
    ``:explain`` answers ``{"explanations": [...]}``."""
    tag, name = model.name, model.name
    errors = (*INFER_ERRORS, *_remote_errors([model]))
    return {
        f"/v1/models/{name}": {
            "get": operation(
                ids("v1_ready", name),
                "Model ready (KServe v1)",
                with_errors({"200": ok(ref("model_ready"))}, (503,)),
                tag=tag,
            )
        },
        f"/v1/models/{name}:predict": {
            "post": operation(
                ids("v1_predict", name),
                "Inference (KServe v1)",
                with_errors({"200": ok(ref("kserve_v1_response"))}, errors),
                tag=tag,
                body=v1_body(model),
            )
        },
        f"/v1/models/{name}:explain": {
            "post": operation(
                ids("v1_explain", name),
                "Explanation (KServe v1; 404 when the model does not explain)",
                with_errors({"200": ok(ref("kserve_v1_explanation"))}, (*errors, 404)),
                tag=tag,
                body=v1_body(model),
            )
        },
    }


def custom_operation(model: V2ModelServer, op: str, operation_id: str) -> Operation:
    """``op_<name>(event)``: any JSON body (or none) in, whatever the method returns out."""
    method = getattr(type(model), model.operations[op])
    doc = (method.__doc__ or "").strip() or None
    errors = (400, 500) if isinstance(model, RouterEndpoint) else (400, 500, 503)
    return operation(
        operation_id,
        f"Custom operation {op!r} (op_{op})",
        with_errors({"200": ok(ANY_JSON)}, errors),
        tag=model.name,
        description=doc,
        body=ANY_JSON,
        body_required=False,
    )


def inference_body(model: V2ModelServer) -> Schema:
    """Open Inference Protocol tensors or MLRun rows (of the spec's width when known).

    A model that overrides ``preprocess`` or ``validate`` decides for itself what a body
    holds, so its body is any JSON object.
    """
    if not takes_rows(model):
        cls = type(model).__name__
        return {"type": "object", "description": f"what {cls}.preprocess and validate accept"}
    rows = spec_rows(model)
    return {
        "description": "Open Inference Protocol tensors, or MLRun rows "
        '({"inputs": [[...], ...]}, what the hooks see); the answer comes in the same form',
        "anyOf": [ref("inference_request"), rows or ref("rows_request")],
    }


def v1_body(model: V2ModelServer) -> Schema:
    """``{"instances": [...]}``: the rows of ``inference_body`` under another name."""
    rows = spec_rows(model) if takes_rows(model) else None
    if rows is None:
        return ref("kserve_v1_request")
    instances = rows["properties"]["inputs"]
    return {
        "anyOf": [
            {"type": "object", "properties": {key: instances}, "required": [key]}
            for key in ("instances", "inputs")
        ]
    }


def spec_rows(model: V2ModelServer) -> Schema | None:
    """Rows of the width (and value type) the model's spec gives, once it is loaded."""
    spec = model.model_spec
    if spec is None or not spec.inputs:
        return None
    return rows_for_features([feature.value_type for feature in spec.inputs])


def takes_rows(model: V2ModelServer) -> bool:
    """The model reads bodies as the default hooks do (it overrides neither of them)."""
    cls = type(model)
    return cls.preprocess is V2ModelServer.preprocess and cls.validate is V2ModelServer.validate


def inference_response() -> Schema:
    """Tensors answer tensors, rows answer rows."""
    return {"anyOf": [ref("inference_response"), ref("rows_response")]}


def explains(model: V2ModelServer) -> bool:
    """The model implements ``explain`` (a router's endpoint: every child does)."""
    if isinstance(model, RouterEndpoint):
        return all(explains(child) for child in model.router.models())
    if isinstance(model, RemoteModel):
        return True  # the remote model decides
    return type(model).explain is not V2ModelServer.explain


def remote(model: V2ModelServer) -> bool:
    """The model (or a child of the router it stands for) forwards to another server."""
    if isinstance(model, RouterEndpoint):
        return any(remote(child) for child in model.router.models())
    return isinstance(model, RemoteModel)


def _remote_errors(models: Iterable[V2ModelServer]) -> tuple[int, ...]:
    """502 and 504 where a remote model answers."""
    return REMOTE_ERRORS if any(remote(m) for m in models) else ()
