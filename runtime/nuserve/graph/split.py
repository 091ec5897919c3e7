"""One flow, several functions: the flow each function runs, and the stream feeding a child.

Steps name the function that runs them (``function``; ``None`` is the function holding the
flow). A step of another function comes after a queue step, which publishes to a stream;
that function consumes the stream, so its flow starts at the step after the queue. The parts
keep the engine and the error handler; their steps have ``function=None`` (their own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nuserve.errors import ConfigError
from nuserve.spec.flow import FlowSpec, StepSpec
from nuserve.streams.url import parse_stream_url


def owner(step: StepSpec, main: str) -> str:
    """The function running ``step``; ``main`` for the flow's own steps."""
    return step.function if step.function not in (None, "") else main


def split_by_function(flow: FlowSpec, main: str = "") -> dict[str, FlowSpec]:
    """Function name → the flow it runs, the flow's own function (``main``) first.

    Refuses a step whose input runs in another function unless that input is a queue, and a
    child fed by several queues (one trigger per function).
    """
    parts: dict[str, FlowSpec] = {}
    for step in flow:
        function = owner(step, main)
        part = parts.setdefault(
            function,
            FlowSpec(
                flow.engine,
                on_error=flow.on_error.copy() if flow.on_error else None,
                error_steps={n: s.copy() for n, s in flow.error_steps.items()},
                default_error_step=flow.default_error_step,
            ),
        )
        copy = step.copy()
        copy.function = None
        copy.after = []
        for name in step.after:
            parent = flow.steps.get(name)
            if parent is None:
                raise ConfigError(f"step {step.name!r} comes after unknown step {name!r}")
            if owner(parent, main) == function:
                copy.after.append(name)
            elif parent.kind != "queue":
                raise ConfigError(
                    f"step {step.name!r} (function {function!r}) comes after {name!r} of "
                    f"function {owner(parent, main)!r}, not a queue; put a queue between them"
                )
        part.steps[copy.name] = copy
    for function in parts:
        if function != main:
            feeding_queues(flow, function, main)
    if main not in parts:
        parts = {main: FlowSpec(flow.engine), **parts}
    return parts


def feeding_queues(flow: FlowSpec, function: str, main: str = "") -> list[StepSpec]:
    """The queue steps (of other functions) whose stream ``function`` consumes: exactly one."""
    queues: dict[str, StepSpec] = {}
    for step in flow:
        if owner(step, main) != function:
            continue
        for name in step.after:
            parent = flow.steps[name]
            if parent.kind == "queue" and owner(parent, main) != function:
                queues[name] = parent
    if len(queues) != 1:
        raise ConfigError(
            f"function {function!r} must be fed by exactly one queue step (got "
            f"{sorted(queues) or 'none'}); one function consumes one stream"
        )
    return list(queues.values())


@dataclass(frozen=True)
class ChildTrigger:
    """The trigger a child function consumes its queue with.

    ``kind`` is ``kafka-cluster``, ``v3ioStream`` or ``memory`` (in-process, no trigger);
    ``args`` are the keyword arguments of ``fn.add_kafka_trigger`` (``brokers``, ``topics``,
    ``consumer_group``) or ``fn.add_v3io_stream_trigger`` (``stream_path``, ``consumer_group``).
    """

    queue: str
    """The queue step's name (a good trigger name)."""
    kind: str
    args: dict[str, Any] = field(default_factory=dict)


def child_trigger(flow: FlowSpec, function: str, main: str = "") -> ChildTrigger:
    """How ``function`` consumes the stream of the queue feeding it.

    The consumer group is the child's name, so that each function reading a topic gets every
    message.
    """
    (queue,) = feeding_queues(flow, function, main)
    path = queue.path or ""
    if path.startswith("kafka://"):
        url = parse_stream_url(path, f"queue step {queue.name!r} path", ("kafka",))
        args = {"brokers": list(url.brokers), "topics": [url.topic], "consumer_group": function}
        return ChildTrigger(queue.name, "kafka-cluster", args)
    if path.startswith("v3io://"):
        args = {"stream_path": path, "consumer_group": function}
        return ChildTrigger(queue.name, "v3ioStream", args)
    if path.startswith("memory://"):
        return ChildTrigger(queue.name, "memory", {"name": path[len("memory://") :]})
    raise ConfigError(f"queue step {queue.name!r} has path {path!r}, which no trigger reads")
