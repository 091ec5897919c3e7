"""MLRun's step semantics: any class with ``do()`` is a step, functions that take a
``context`` get it, ``full_event`` steps get the event, a model is a flow step.

MLRun builds a step class with its class arguments plus those of ``context``, ``name``,
``input_path``, ``result_path`` and ``full_event`` that its ``__init__`` declares (all of them
when it takes ``**kwargs``), then calls ``do(body)`` per event (``do_event(event)`` takes the
whole event; ``handler=`` names another method). Which arguments a class takes is read once,
when the flow is built, never per event.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from nuserve.context import ServingContext
from nuserve.errors import ConfigError
from nuserve.event import Event, Response
from nuserve.model.v2_model_server import V2ModelServer

EXTRA_ARGS = ("context", "name", "input_path", "result_path", "full_event")


class StepEvent(Event):
    """The event a ``full_event`` step (or error handler) gets: attributes may be added
    (MLRun's ``error`` and ``origin_state``), and its ``body`` is the step's input."""

    error: str
    origin_state: str


def accepted_args(cls: type, offered: dict[str, Any]) -> dict[str, Any]:
    """The part of ``offered`` that ``cls.__init__`` declares (all of it for ``**kwargs``)."""
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(offered)
    return {k: v for k, v in offered.items() if k in params}


def build_plain(
    cls: type, step_name: str, class_args: dict[str, Any], context: ServingContext,
    extra: dict[str, Any], method: str | None,
) -> tuple[Any, Callable[..., Any], bool]:  # fmt: skip
    """An instance of ``cls`` and the bound method each event calls, and whether that
    method takes the whole event (``do_event``)."""
    offered = {"context": context, "name": step_name, **extra}
    kwargs = {**accepted_args(cls, offered), **class_args}
    try:
        instance = cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(
            f"step {step_name!r}: class {cls.__name__} cannot be built with {sorted(kwargs)}: {exc}"
        ) from None
    if method is not None:
        call = getattr(instance, method, None)
        if not callable(call):
            raise ConfigError(f"step {step_name!r}: class {cls.__name__} has no method {method!r}")
        return instance, call, False
    if callable(getattr(instance, "step_call", None)):  # nuserve's own: (body, event)
        return instance, instance.step_call, False
    if callable(getattr(instance, "do", None)):
        return instance, instance.do, False
    if callable(getattr(instance, "do_event", None)):
        return instance, instance.do_event, True
    raise ConfigError(
        f"step {step_name!r}: class {cls.__name__} has no do(body) (nor do_event(event)) "
        "method; give it one, or name its method with handler="
    )


def takes_context(func: Callable[..., Any]) -> bool:
    try:
        return "context" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def with_context(func: Callable[..., Any], context: ServingContext) -> Callable[..., Any]:
    """A handler declaring ``context`` is called with the graph's context (MLRun's rule)."""
    return functools.partial(func, context=context)


def full_event_call(call: Callable[..., Any], is_async: bool) -> Callable[..., Any]:
    """``call(event)`` for a step given the whole event: its body is the step's input, and
    an event it returns gives the next body."""

    def event_for(body: Any, event: Event) -> StepEvent:
        full = StepEvent(body, event.path, event.method, event.headers, event.content_type,
                         event.id, event.trigger)  # fmt: skip
        full.offset, full.time = event.offset, event.time
        return full

    if is_async:

        async def run_async(body: Any, event: Event) -> Any:
            out = await call(event_for(body, event))
            return out.body if isinstance(out, Event) else out

        return run_async

    def run(body: Any, event: Event) -> Any:
        out = call(event_for(body, event))
        return out.body if isinstance(out, Event) else out

    return run


def model_step(model: V2ModelServer) -> Callable[[Any, Event], Any]:
    """A model as a flow step: ``GET`` answers its metadata, ``.../ready`` its readiness (a
    bare status), anything else is an inference on the step's input."""

    def run(body: Any, event: Event) -> Any:
        path = event.path.rstrip("/")
        if path.endswith("/ready") or path == "ready":
            if model.ready:
                return Response(None, 200)
            return Response({"error": f"model {model.name!r} is not ready"}, 503)
        if event.method == "GET":
            return model.metadata()
        request = Event(body, event.path, "POST", event.headers, None, event.id, event.trigger)
        result = model.infer(request, "infer")
        return result.body if isinstance(result, Response) else result

    return run
