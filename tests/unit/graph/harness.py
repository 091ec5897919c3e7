"""Builds and runs flows the way the server will, without the server (until it is wired)."""

from __future__ import annotations

import asyncio
from typing import Any

from nuserve.context import ServingContext
from nuserve.event import Event, Response
from nuserve.graph import Flow, FlowBuilder, FlowSpec, build_flow
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.resolve import resolve_class
from nuserve.routers.router import ModelRouter
from nuserve.spec.routers import RouterSpec
from tests.unit.graph import flow_steps


def namespaces(extra: dict[str, Any] | None = None) -> list[tuple[str, Any]]:
    found = [("the test namespace", extra)] if extra else []
    return [*found, ("flow_steps", vars(flow_steps))]


def build(
    graph: FlowBuilder | FlowSpec, extra: dict[str, Any] | None = None, function_name: str = "fn"
) -> Flow:
    spec = graph.spec if isinstance(graph, FlowBuilder) else graph
    context = ServingContext(function_name=function_name)
    spaces = namespaces(extra)

    def build_router(router_spec: RouterSpec) -> ModelRouter:
        router = ModelRouter(context=context, **router_spec.class_args)
        for key, route in router_spec.routes.items():
            model_class = resolve_class(route.class_name, spaces)
            assert issubclass(model_class, V2ModelServer)
            model = model_class(context=context, name=key.partition(":")[0], **route.class_args)
            router.add_route(key, model, default=route.default)
        return router

    flow = build_flow(spec, context, spaces, build_router)
    flow.freeze()
    for model in flow.models():
        model.start()
    return flow


def run(
    flow: Flow, body: Any = None, path: str = "/", trigger: str = "http", **kw: Any
) -> Response:
    result = flow.dispatch(Event(body, path, trigger=trigger, **kw))
    if not isinstance(result, Response):
        result = asyncio.run(result)
    return result
