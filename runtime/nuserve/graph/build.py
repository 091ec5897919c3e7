"""build_flow: a ``Flow`` from a ``FlowSpec`` (classes found, steps built, calls wrapped).

The server passes ``build_router`` (a ``RouterSpec`` to a ``ModelRouter`` with its models), so
router steps are built the way a router graph root is, and this package never imports the
server. Only the steps of the function being built run here: the steps after a queue that
name another function run in that function (``nuserve.graph.split``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from nuserve.context import ServingContext
from nuserve.errors import ConfigError
from nuserve.event import Event, Response
from nuserve.graph.flow import Flow
from nuserve.graph.node import Node
from nuserve.graph.paths import await_paths, with_paths
from nuserve.graph.queues import open_queue
from nuserve.graph.steps import Step, is_async_function, resolve_handler
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.resolve import resolve_class
from nuserve.routers.router import ModelRouter
from nuserve.spec.flow import FlowSpec, StepSpec
from nuserve.spec.routers import RouterSpec

Namespaces = list[tuple[str, Mapping[str, Any]]]
BuildRouter = Callable[[RouterSpec], ModelRouter]


def build_flow(
    spec: FlowSpec,
    context: ServingContext,
    namespaces: Namespaces,
    build_router: BuildRouter,
) -> Flow:
    """The flow of function ``context.function_name``: its steps built, not yet frozen."""
    ours = (None, "", context.function_name)
    nodes = [
        build_step(step, spec.engine, context, namespaces, build_router)
        for step in spec.steps.values()
        if step.function in ours
    ]
    on_error = None
    if spec.on_error is not None:
        on_error = build_task(spec.on_error, context, namespaces, error_handler=True)
    return Flow(nodes, spec.engine, context, on_error)


def build_step(
    step: StepSpec,
    engine: str,
    context: ServingContext,
    namespaces: Namespaces,
    build_router: BuildRouter,
) -> Node:
    if step.kind == "merge":
        if step.input_path or step.result_path:
            raise ConfigError(f"merge step {step.name!r} takes no input_path or result_path")
        node = Node(step.name, "merge", None)
    elif step.kind == "router":
        node = _router_node(step, engine, build_router)
    elif step.kind == "queue":
        stream = open_queue(step.path, step.class_args, step.name)
        node = Node(step.name, "queue", stream.publish, target=stream)
    else:
        node = build_task(step, context, namespaces)
    node.after, node.responder = tuple(step.after), step.responder
    if node.call is not None and (step.input_path or step.result_path):
        wrap = await_paths if node.is_async else with_paths
        node.call = wrap(node.call, step.input_path, step.result_path, step.name)
    return node


def build_task(
    step: StepSpec,
    context: ServingContext,
    namespaces: Namespaces,
    error_handler: bool = False,
) -> Node:
    """A class step (``do``, or ``on_error`` for the error handler) or a function step."""
    what = "error handler" if error_handler else "step"
    if (step.class_name is None) == (step.handler is None):
        raise ConfigError(
            f"{what} {step.name!r} needs exactly one of class_name= (a Step subclass) and "
            f"handler= (a function) (got class_name={step.class_name!r}, "
            f"handler={step.handler!r})"
        )
    if step.handler is not None:
        if step.class_args:
            raise ConfigError(
                f"{what} {step.name!r} is a function and takes no class arguments "
                f"(got {sorted(step.class_args)}); use a Step class to configure a step"
            )
        func = resolve_handler(step.handler, namespaces)
        return Node(step.name, "task", func, is_async=is_async_function(func), target=func)
    assert step.class_name is not None
    cls = resolve_class(step.class_name, namespaces)
    if not issubclass(cls, Step):
        raise ConfigError(_not_a_step(step.name, cls))
    try:
        instance = cls(context=context, name=step.name, **step.class_args)
    except TypeError as exc:
        raise ConfigError(
            f"step class {cls.__name__} cannot be built with context=, name= and "
            f"{sorted(step.class_args)}: {exc}"
        ) from None
    method = "on_error" if error_handler else "do"
    call = getattr(instance, method)
    return Node(step.name, "task", call, is_async=method in cls.async_methods, target=instance)


def _not_a_step(name: str, cls: type) -> str:
    if issubclass(cls, V2ModelServer):
        return (
            f"step {name!r}: {cls.__name__} is a model; serve it from a router step: "
            "graph.add_step('*', name='router') then fn.add_model(key, class_name=..., "
            "router_step='router')"
        )
    if issubclass(cls, ModelRouter):
        return (
            f"step {name!r}: {cls.__name__} is a router; add it as a router step: "
            f"graph.add_step({cls.__name__}, name=...) builds one from the class"
        )
    return (
        f"step {name!r}: class {cls.__name__} is not a nuserve.graph.Step; subclass Step and "
        "implement do(body), or pass a function as handler="
    )


def _router_node(step: StepSpec, engine: str, build_router: BuildRouter) -> Node:
    """A router fed the body as a request, with the event's path (to pick the model)."""
    if step.router is None:
        raise ConfigError(f"router step {step.name!r} has no router spec")
    router = build_router(step.router)
    route = router.dispatch
    name = step.name

    def sub_event(body: Any, event: Event) -> Event:
        return Event(body, event.path, "POST", event.headers, None, event.id, event.trigger)

    if engine == "async":

        async def call_async(body: Any, event: Event) -> Any:
            result = route(sub_event(body, event))
            if isinstance(result, Response):
                return result.body
            return (await result).body

        return Node(name, "router", call_async, True, True, target=router)

    def call(body: Any, event: Event) -> Any:
        result = route(sub_event(body, event))
        if not isinstance(result, Response):
            _discard(result)
            raise ConfigError(
                f"router step {name!r} answered asynchronously (an async model or tracking "
                "hook); use fn.set_topology('flow', engine='async')"
            )
        return result.body

    return Node(name, "router", call, True, False, target=router)


def _discard(result: Awaitable[Response]) -> None:
    close = getattr(result, "close", None)
    if callable(close):
        close()
