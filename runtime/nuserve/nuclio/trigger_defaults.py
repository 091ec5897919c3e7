"""What the generated function.yaml picks when the user leaves it open: how many workers, which
handler, and whether the HTTP trigger batches.

Nuclio's Python runtime runs one wrapper process per worker and hands each one event at a time,
so the settings that decide throughput are Nuclio's, not nuserve's:

- ``numWorkers``: one per CPU the function may use (``resources.limits.cpu``, else
  ``requests.cpu``, rounded up), since a Python worker is bound to one core; one for a function
  that asks for GPUs (each worker would load its own copy of the model onto the device) or that
  names no CPU.
- the handler: ``handler_async`` when the graph is async (a flow on the async engine, a model
  whose hooks are coroutines, a streamed or generative model), so the graph runs on the
  wrapper's own event loop, whose background tasks (tracking, batching, remote calls) go on
  between events; else ``handler``, which skips the loop entirely for sync graphs.
- trigger batch mode when a model batches (``max_batch_size``): a Nuclio worker never has two
  requests at once, so nuserve's in-process batcher could only ever see one; trigger batch
  mode hands the handler a list, whose mergeable requests share one ``predict``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from nuserve.errors import ConfigError
from nuserve.nuclio.function_spec import FunctionSpec
from nuserve.spec.flow import FlowSpec
from nuserve.spec.routers import RouterSpec, RouteSpec

SYNC_HANDLER = "handler:handler"
ASYNC_HANDLER = "handler:handler_async"
GENERATIVE_CLASSES = frozenset({"LLModel"})
DEFAULT_BATCH_TIMEOUT = "2ms"
"""The batch timeout written with ``with_http(batch_size=N)`` alone (``max_batch_time_ms``'s
default): Nuclio's platform would fill in 1 s, a second's wait whenever a batch is not full,
and the processor itself refuses a batch without one."""


def worker_count(spec: FunctionSpec) -> int:
    """``numWorkers`` of the HTTP trigger: ``spec.http_workers``, else one per CPU."""
    if spec.http_workers is not None:
        return spec.http_workers
    limits = spec.resources.get("limits") or {}
    requests = spec.resources.get("requests") or {}
    if any(k.endswith("/gpu") for k in (*limits, *requests)):
        return 1
    cpu = limits.get("cpu") or requests.get("cpu")
    return 1 if cpu is None else max(1, math.ceil(cpu_cores(cpu)))


def cpu_cores(value: Any) -> float:
    """A Kubernetes CPU quantity (``2``, ``"1.5"``, ``"500m"``) in cores."""
    text = str(value).strip()
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise ConfigError(f"cpu {value!r} is not a CPU quantity (e.g. 2, '1.5', '500m')") from None


def handler_name(spec: FunctionSpec) -> str:
    """``spec.handler``, else the async handler for an async graph and the sync one otherwise."""
    if spec.handler is not None:
        return spec.handler
    return ASYNC_HANDLER if is_async(spec) else SYNC_HANDLER


def is_async(spec: FunctionSpec) -> bool:
    """Whether the graph does its work on an event loop (known from the spec alone: a class
    given by name, not object, is taken as sync unless it is a generative one)."""
    graph = spec.graph
    if spec.streaming or (isinstance(graph, FlowSpec) and graph.engine == "async"):
        return True
    return any(_async_class(route.class_name) for route in routes(graph))


def _async_class(name: Any) -> bool:
    return is_generative(name) or bool(getattr(name, "async_hooks", None))


def is_generative(name: Any) -> bool:
    """Whether a model class (object, or a name, which is not imported) is a generative one."""
    if isinstance(name, str):
        return name.rsplit(".", 1)[-1] in GENERATIVE_CLASSES
    return isinstance(name, type) and bool(getattr(name, "generative", False))


def batch_mode(spec: FunctionSpec) -> tuple[int, str | None] | None:
    """The HTTP trigger's ``batch`` (size, timeout): ``with_http(batch_size=...)`` (with
    ``DEFAULT_BATCH_TIMEOUT`` unless it says one), else the largest ``max_batch_size`` of the
    graph's models and their longest wait; ``None``: off."""
    if spec.http_batch_size is not None:
        if not spec.http_batch_size:
            return None
        return spec.http_batch_size, spec.http_batch_timeout or DEFAULT_BATCH_TIMEOUT
    sizes: list[int] = []
    waits: list[float] = []
    for route in routes(spec.graph):
        args = route.class_args
        options = {**(args.get("batching") or {}), **args}
        if "max_batch_size" in options or "max_batch_time_ms" in options:
            sizes.append(int(options.get("max_batch_size", 32)))
            waits.append(float(options.get("max_batch_time_ms", 2.0)))
    if not sizes:
        return None
    return max(sizes), _duration_ms(max(waits))


def _duration_ms(ms: float) -> str:
    """A Go duration for ``ms`` milliseconds (Nuclio's batcher waits that long once a batch
    has its first event)."""
    micros = round(ms * 1000)
    return f"{micros // 1000}ms" if micros % 1000 == 0 else f"{micros}us"


def routes(graph: RouterSpec | FlowSpec | None) -> Iterator[RouteSpec]:
    """Every model route of the graph: a router's, or those of a flow's router steps."""
    if isinstance(graph, RouterSpec):
        yield from graph.routes.values()
    elif isinstance(graph, FlowSpec):
        for step in graph.steps.values():
            if step.router is not None:
                yield from step.router.routes.values()
