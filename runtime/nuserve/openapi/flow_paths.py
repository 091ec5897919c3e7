"""The paths a ``Flow`` serves.

A flow runs for every request, whatever its path: the body goes to the first step and the
answer is the responder's output (or the last step's). The path matters only to router
steps, which pick their model by it (``/v2/models/<m>/infer``), or by body on ``/``. So the
document lists ``POST /`` and, for each model of each router step, the inference and
operation paths that select it. Bodies are the steps' business: any JSON in, any JSON out.
A step's error keeps its status (a model's 400 stays 400), any other exception is a 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nuserve.openapi.operation_ids import OperationIds
from nuserve.openapi.responses import ok, operation, with_errors
from nuserve.openapi.router_paths import ANY_JSON, PathItem
from nuserve.routers.router import ModelRouter

if TYPE_CHECKING:
    from nuserve.graph.flow import Flow


def flow_paths(flow: Flow, ids: OperationIds) -> dict[str, PathItem]:
    """``POST /`` and the model paths of the flow's router steps."""
    paths: dict[str, PathItem] = {"/": {"post": run(ids("run_flow"), "Run the flow", "flow")}}
    for node in flow.nodes:
        router = node.target
        if not isinstance(router, ModelRouter):
            continue
        for name, versions in router.versions.items():
            for version, model in versions.items():
                prefixes = [f"/v2/models/{name}/versions/{version}"] if version else []
                if version == router.default_version[name]:
                    prefixes.append(f"/v2/models/{name}")
                ops = ["infer", "predict", *sorted(model.operations)]
                for prefix in prefixes:
                    for op in ops:
                        summary = f"Run the flow; router step {node.name!r} calls {op} of {name!r}"
                        op_id = ids("run_flow", node.name, name, version, op)
                        paths.setdefault(f"{prefix}/{op}", {"post": run(op_id, summary, name)})
    return paths


def run(operation_id: str, summary: str, tag: str) -> dict[str, object]:
    return operation(
        operation_id,
        summary,
        with_errors({"200": ok(ANY_JSON, "The responder's output")}, (400, 500), default=True),
        tag=tag,
        body=ANY_JSON,
        body_required=False,
    )
