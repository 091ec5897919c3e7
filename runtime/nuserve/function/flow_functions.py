"""The functions a flow deploys as: the parent and one per child (``fn.add_child_function``).

Each function gets a copy of its own ``ServingFunction`` whose graph is its part of the flow
(``split_by_function``); a child also gets the trigger that consumes the queue feeding it
(kafka-cluster or v3ioStream; a ``memory://`` queue has none). ``to_yaml`` writes one
function.yaml per entry.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any, Protocol, Self, TypeVar

from nuserve.errors import ConfigError
from nuserve.graph.split import child_trigger, split_by_function
from nuserve.nuclio.function_spec import FunctionSpec
from nuserve.spec.flow import FlowSpec


class Splittable(Protocol):
    """What a function is split from (``ServingFunction`` is one)."""

    spec: FunctionSpec
    children: dict[str, Self]

    @property
    def name(self) -> str: ...

    @property
    def add_kafka_trigger(self) -> Callable[..., Any]: ...

    @property
    def add_v3io_stream_trigger(self) -> Callable[..., Any]: ...


ServingFunction = TypeVar("ServingFunction", bound=Splittable)


def split_function(fn: ServingFunction) -> dict[str, ServingFunction]:
    """Function name → the function serving that part, ``fn``'s own first.

    A function whose graph is a router, or a flow all of whose steps run in it, is itself.
    """
    graph = fn.spec.graph
    if not isinstance(graph, FlowSpec) or all(s.function in (None, "", fn.name) for s in graph):
        return {fn.name: fn}
    children = fn.children
    parts = split_by_function(graph, main=fn.name)
    missing = [name for name in parts if name != fn.name and name not in children]
    if missing:
        raise ConfigError(
            f"flow steps run in function(s) {missing}, which {fn.name!r} does not have; add "
            f"them with fn.add_child_function({missing[0]!r})"
        )
    unused = sorted(set(children) - set(parts))
    if unused:
        raise ConfigError(
            f"child function(s) {unused} run no flow step; pass function={unused[0]!r} to the "
            "steps after a queue, or remove the child"
        )
    result: dict[str, ServingFunction] = {}
    for name, flow in parts.items():
        if name == fn.name:
            result[name] = with_graph(fn, flow)
            continue
        part = with_graph(children[name], flow)
        trigger = child_trigger(graph, name, main=fn.name)
        if trigger.kind == "kafka-cluster":
            part.add_kafka_trigger(trigger.queue, **trigger.args)
        elif trigger.kind == "v3ioStream":
            part.add_v3io_stream_trigger(trigger.queue, **trigger.args)
        result[name] = part
    return result


def with_graph(fn: ServingFunction, flow: FlowSpec) -> ServingFunction:
    """A copy of ``fn`` serving ``flow``; triggers are copied, so adding one leaves ``fn``."""
    part = copy.copy(fn)
    changes: dict[str, Any] = {"graph": flow, "triggers": dict(fn.spec.triggers)}
    part.spec = dataclasses.replace(fn.spec, **changes)
    return part
