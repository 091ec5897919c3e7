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
from nuserve.graph.expression import expression_step, is_expression
from nuserve.graph.flow import Flow
from nuserve.graph.node import Node
from nuserve.graph.paths import await_paths, with_paths
from nuserve.graph.plain import (
    build_plain,
    full_event_call,
    model_step,
    takes_context,
    with_context,
)
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
    steps = _steps_to_run(spec, context)
    nodes = [build_step(step, spec.engine, context, namespaces, build_router) for step in steps]
    on_error = None
    if spec.on_error is not None:
        on_error = build_task(spec.on_error, context, namespaces, error_handler=True)
    flow = Flow(nodes, spec.engine, context, on_error)
    for step in steps:
        chosen = step.on_error or spec.default_error_step
        if chosen:
            handler = spec.error_steps.get(chosen)
            if handler is None:
                raise ConfigError(f"step {step.name!r}: no error step {chosen!r}")
            flat = handler.copy()
            flat.full_event = False
            node = build_step(flat, spec.engine, context, namespaces, build_router)
            flow.step_handlers[step.name] = (node, handler.full_event)
    return flow


def _steps_to_run(spec: FlowSpec, context: ServingContext) -> list[StepSpec]:
    """The steps of this function; under a mock server (MLRun) those of every function
    (``current_function="*"``), or of the one named, starting at its first step."""
    wanted = context.current_function if context.is_mock else ""
    if wanted == "*":
        return list(spec.steps.values())
    ours: tuple[str | None, ...] = (None, "", context.function_name)
    if wanted and wanted != context.function_name:
        ours = (wanted,)
    steps = [step for step in spec.steps.values() if step.function in ours]
    if wanted:
        names = {step.name for step in steps}
        steps = [step.copy() for step in steps]
        for step in steps:
            step.after = [a for a in step.after if a in names]
    return steps


def build_step(
    step: StepSpec,
    engine: str,
    context: ServingContext,
    namespaces: Namespaces,
    build_router: BuildRouter,
) -> Node:
    if step.kind == "merge" and step.class_name is None:
        if step.input_path or step.result_path:
            raise ConfigError(f"merge step {step.name!r} takes no input_path or result_path")
        node = Node(step.name, "merge", None)
    elif step.kind == "router":
        node = _router_node(step, engine, build_router)
    elif step.kind == "queue" and not step.path and context.is_mock:
        node = Node(step.name, "queue", _pass_on)  # MLRun's mock: a queue with no stream
    elif step.kind == "queue":
        stream = open_queue(step.path, step.class_args, step.name)
        node = Node(step.name, "queue", stream.publish, target=stream)
    elif step.kind == "merge" and step.class_name is not None:
        joiner = build_joiner(step, context, namespaces)
        node = Node(step.name, "merge", joiner.join, target=joiner)
    else:
        node = build_task(step, context, namespaces)
    node.after, node.responder = tuple(step.after), step.responder
    if engine == "async" and callable(getattr(node.target, "step_call_async", None)):
        node.call, node.is_async = node.target.step_call_async, True
    if node.call is not None and node.kind != "merge" and (step.input_path or step.result_path):
        wrap = await_paths if node.is_async else with_paths
        node.call = wrap(node.call, step.input_path, step.result_path, step.name)
    return node


def _pass_on(body: Any) -> Any:
    return body


def build_joiner(step: StepSpec, context: ServingContext, namespaces: Namespaces) -> Any:
    """A merge step's class (MLRun's ``Merge``): its ``join({input: output})`` result."""
    assert step.class_name is not None
    cls = resolve_class(step.class_name, namespaces)
    instance, _, _ = build_plain(cls, step.name, step.class_args, context, {}, "join")
    return instance


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
    if step.handler is not None and step.class_name is None:
        if step.class_args:
            raise ConfigError(
                f"{what} {step.name!r} is a function and takes no class arguments "
                f"(got {sorted(step.class_args)}); use a Step class to configure a step"
            )
        if is_expression(step.handler):
            func = expression_step(str(step.handler), f"{what} {step.name!r} handler")
        else:
            func = resolve_handler(step.handler, namespaces)
            if takes_context(func):
                func = with_context(func, context)
        return _full_event(step, Node(step.name, "task", func, is_async=is_async_function(func),
                                      target=func))  # fmt: skip
    assert step.class_name is not None
    cls = resolve_class(step.class_name, namespaces)
    if issubclass(cls, V2ModelServer) and not error_handler:
        return _model_node(step, cls, context)
    if not issubclass(cls, Step) or isinstance(step.handler, str):
        if issubclass(cls, ModelRouter):
            raise ConfigError(_not_a_step(step.name, cls))
        method = step.handler if isinstance(step.handler, str) else None
        extra = {"input_path": step.input_path, "result_path": step.result_path,
                 "full_event": step.full_event}  # fmt: skip
        instance, call, whole = build_plain(cls, step.name, step.class_args, context, extra,
                                            method)  # fmt: skip
        if method is None and callable(getattr(instance, "step_call", None)):
            return Node(step.name, "task", instance.step_call, True, target=instance)
        node = Node(step.name, "task", call, is_async=is_async_function(call), target=instance)
        if whole and not step.full_event:
            node.call = full_event_call(call, node.is_async)
            node.takes_event = True
        return _full_event(step, node)
    try:
        instance = cls(context=context, name=step.name, **step.class_args)
    except TypeError as exc:
        raise ConfigError(
            f"step class {cls.__name__} cannot be built with context=, name= and "
            f"{sorted(step.class_args)}: {exc}"
        ) from None
    method = "on_error" if error_handler else "do"
    call = getattr(instance, method)
    node = Node(step.name, "task", call, is_async=method in cls.async_methods, target=instance)
    return _full_event(step, node)


def _full_event(step: StepSpec, node: Node) -> Node:
    if step.full_event and node.call is not None:
        node.call = full_event_call(node.call, node.is_async)
        node.takes_event = True
    return node


def _model_node(step: StepSpec, cls: type[V2ModelServer], context: ServingContext) -> Node:
    """A model as a flow step (MLRun): built with its class args, loaded with the others."""
    args = dict(step.class_args)
    try:
        model = cls(context=context, name=step.name, **args)
    except TypeError as exc:
        raise ConfigError(
            f"model step {step.name!r}: {cls.__name__}({sorted(args)}): {exc}"
        ) from None
    if model.input_path and not step.input_path:
        step.input_path = model.input_path
    if model.result_path and not step.result_path:
        step.result_path = model.result_path
    return Node(step.name, "task", model_step(model), True, False, target=model)


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
