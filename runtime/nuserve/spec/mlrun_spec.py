"""MLRun's serving spec (the JSON MLRun puts in ``SERVING_SPEC_ENV``) as nuserve's.

MLRun writes routes and steps as objects keyed by name (nuserve: lists), models' paths inside
``class_args``, and a flow's ``engine`` beside its steps. Fields that only matter to MLRun's
control plane are read and dropped (listed in ``IGNORED``); any other unknown field is a
``ConfigError`` naming it, so nothing a spec asks for is silently lost.
"""

from __future__ import annotations

from typing import Any

from nuserve.errors import ConfigError
from nuserve.spec.flow import FlowSpec, StepSpec
from nuserve.spec.routers import RouterSpec, RouteSpec

SERVING_SPEC_ENV = "SERVING_SPEC_ENV"
TOP = {"version", "parameters", "graph", "load_mode", "function_uri", "function_name",
       "error_stream", "default_content_type", "verbose", "track_models", "tracking_policy",
       "graph_initializer", "secret_sources", "functions", "default_class", "streaming",
       "model_endpoint_creation_task_name"}  # fmt: skip
IGNORED = {"version", "function_uri", "verbose", "graph_initializer", "secret_sources",
           "functions", "streaming", "model_endpoint_creation_task_name", "track_models",
           "tracking_policy"}  # fmt: skip
STEP = {"kind", "class_name", "class_args", "handler", "after", "responder", "name",
        "function", "input_path", "result_path", "full_event", "on_error", "path", "routes",
        "shape", "comment", "engine", "steps", "default_class", "final_step", "options",
        "max_iterations"}  # fmt: skip
ROUTE = {"kind", "class_name", "class_args", "handler", "name", "function", "model_path",
         "comment", "shape"}  # fmt: skip


def is_mlrun_spec(data: dict[str, Any]) -> bool:
    """MLRun's specs say ``version: "v2"`` (nuserve's: ``1``), or key routes/steps by name."""
    graph = data.get("graph") or {}
    return (
        data.get("version") == "v2"
        or isinstance(graph.get("routes"), dict)
        or isinstance(graph.get("steps"), dict)
    )


def _unknown(data: dict[str, Any], known: set[str], where: str) -> None:
    extra = sorted(set(data) - known)
    if extra:
        raise ConfigError(
            f"MLRun serving spec: unknown field(s) {', '.join(map(repr, extra))} in {where} "
            f"(known: {', '.join(sorted(known))})"
        )


def convert(data: dict[str, Any]) -> dict[str, Any]:
    """The nuserve spec dict for MLRun spec ``data``."""
    _unknown(data, TOP, "the spec")
    out: dict[str, Any] = {"name": data.get("function_name") or _name(data.get("function_uri"))}
    for key in ("parameters", "load_mode", "error_stream", "default_content_type"):
        if data.get(key) is not None:
            out[key] = data[key]
    graph = data.get("graph")
    if graph:
        out["graph"] = _graph(graph)
    return out


def _name(uri: Any) -> str:
    text = str(uri or "nuserve")
    return (
        text.rsplit("/", maxsplit=1)[-1].split(":", maxsplit=1)[0].split("@", maxsplit=1)[0]
        or "nuserve"
    )


def _graph(graph: dict[str, Any]) -> dict[str, Any]:
    _unknown(graph, STEP, "the graph")
    if graph.get("kind") == "flow":
        steps = graph.get("steps") or {}
        items = steps.items() if isinstance(steps, dict) else ((s["name"], s) for s in steps)
        return {
            "kind": "flow",
            "engine": graph.get("engine", "async"),
            "steps": [_step(name, step) for name, step in items],
        }
    return _router(graph)


def _router(graph: dict[str, Any]) -> dict[str, Any]:
    routes = graph.get("routes") or {}
    items = routes.items() if isinstance(routes, dict) else ((r["key"], r) for r in routes)
    out: dict[str, Any] = {"kind": "router", "class_name": graph.get("class_name"),
                           "routes": [_route(key, route) for key, route in items]}  # fmt: skip
    if graph.get("class_args"):
        out["class_args"] = dict(graph["class_args"])
    return out


def _route(key: str, route: dict[str, Any]) -> dict[str, Any]:
    _unknown(route, ROUTE | {"key", "model_url"}, f"route {key!r}")
    args = dict(route.get("class_args") or {})
    out: dict[str, Any] = {"key": key, "class_name": route.get("class_name")}
    model_path = route.get("model_path", args.pop("model_path", None))
    if model_path is not None:
        out["model_path"] = model_path
    if args:
        out["class_args"] = args
    return out


def _step(name: str, step: dict[str, Any]) -> dict[str, Any]:
    _unknown(step, STEP, f"step {name!r}")
    kind = step.get("kind", "task")
    out: dict[str, Any] = {"name": name}
    if kind == "router":
        out["kind"] = "router"
        out["router"] = _router(step)
    elif kind == "queue":
        out["kind"] = "queue"
        out["path"] = step.get("path")
    else:
        out["kind"] = "task"
        for key in ("class_name", "handler"):
            if step.get(key):
                out[key] = step[key]
        if step.get("class_args"):
            out["class_args"] = dict(step["class_args"])
    for key in ("after", "input_path", "result_path", "function", "responder", "full_event"):
        if step.get(key):
            out[key] = step[key]
    return out


__all__ = ["SERVING_SPEC_ENV", "FlowSpec", "RouteSpec", "RouterSpec", "StepSpec", "convert",
           "is_mlrun_spec"]  # fmt: skip
