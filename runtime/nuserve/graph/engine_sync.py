"""The sync engine: steps one after the other, in the order ``freeze`` fixed.

A chain (each step after the one before) is one loop over ``(call, takes_event, name)``
tuples; when a step raises, the loop variables still hold its name and its input, so error
reporting costs nothing per event. Branches run one after the other, each from its input's
value; a merge gets ``{input step: output}``. The whole flow runs before the answer.

A step of a chain that returns a generator passes its chunks on: each later step gets each
chunk (lazily, as the chunk is made), and the flow's answer is the chunks, streamed when the
function streams (``fn.set_streaming(True)``), else joined (``nuserve.model.streaming``).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import GeneratorType
from typing import Any

from nuserve.event import Event, Response
from nuserve.graph.node import RAW_BODIES, Dispatch, Node, Plan, answer, read_body
from nuserve.model.streaming import collect_sync, stream_of_sync

Program = tuple[tuple[Any, bool, str], ...]


def compile_sync(flow: Plan) -> Dispatch:
    order = flow.order
    is_chain = all(
        n.kind != "merge" and n.after == ((order[i - 1].name,) if i else ())
        for i, n in enumerate(order)
    )
    return _chain(flow) if is_chain else _dag(flow)


def _steps(nodes: list[Node]) -> Program:
    return tuple((n.call, n.takes_event, n.name) for n in nodes)


def _through(chunks: Iterator[Any], steps: Program, event: Event) -> Iterator[Any]:
    """Each chunk through the steps after the one that made the chunks."""
    for made in chunks:
        value = made
        for call, takes_event, _ in steps:
            value = call(value, event) if takes_event else call(value)
        yield value


def streamed(flow: Plan, chunks: Iterator[Any]) -> Response:
    """A flow's chunks as its answer: streamed, or joined into one body."""
    if flow.streaming:
        stream = stream_of_sync(chunks)
        return Response(stream, content_type=stream.media_type)
    return Response(collect_sync(chunks))


def _chain(flow: Plan) -> Dispatch:
    order, answer_node = flow.order, flow.answer_node
    split = order.index(answer_node) + 1 if answer_node is not None else len(order)
    head, tail = _steps(order[:split]), _steps(order[split:])
    rest = {step[2]: head[i + 1 :] for i, step in enumerate(head)}
    has_responder, failed = flow.has_responder, flow.failed
    raw = RAW_BODIES

    def run_chain(event: Event) -> Response:
        body = event.body
        if body.__class__ in raw:
            body = read_body(event)
        name = ""
        try:
            for call, takes_event, name in head:  # noqa: B007 - read by except
                body = call(body, event) if takes_event else call(body)
            result = body
            for call, takes_event, name in tail:  # noqa: B007 - read by except
                body = call(body, event) if takes_event else call(body)
        except Exception as exc:  # noqa: BLE001 - a failed step is an answer, not a crash
            return failed(event, name, body, exc)
        if type(result) is Response:
            return result
        if has_responder or event.trigger == "http":
            return Response(result)
        return Response({"id": event.id})

    if tail:
        return run_chain

    def run_chain_to_end(event: Event) -> Response:
        """The same loop without the part after the responder (most flows)."""
        body = event.body
        if body.__class__ in raw:
            body = read_body(event)
        name = ""
        try:
            for call, takes_event, name in head:
                body = call(body, event) if takes_event else call(body)
                if body.__class__ is GeneratorType:
                    return streamed(flow, _through(body, rest[name], event))
        except Exception as exc:  # noqa: BLE001 - a failed step is an answer, not a crash
            return failed(event, name, body, exc)
        if type(body) is Response:
            return body
        if has_responder or event.trigger == "http":
            return Response(body)
        return Response({"id": event.id})

    return run_chain_to_end


def _dag(flow: Plan) -> Dispatch:
    """Branches and merges: ``values[0]`` is the event body, ``values[i + 1]`` step i's output."""
    index = {n.name: i + 1 for i, n in enumerate(flow.order)}
    program: tuple[tuple[Any, bool, str, int, tuple[tuple[str, int], ...] | None], ...]
    program = tuple(
        (
            n.call,
            n.takes_event,
            n.name,
            index[n.after[0]] if n.kind != "merge" and n.after else 0,
            tuple((a, index[a]) for a in n.after) if n.kind == "merge" else None,
        )
        for n in flow.order
    )
    answer_at = index[flow.answer_node.name] if flow.answer_node is not None else 0
    has_responder, failed = flow.has_responder, flow.failed

    def run_dag(event: Event) -> Response:
        body = event.body
        if body.__class__ in RAW_BODIES:
            body = read_body(event)
        values = [body]
        name, value = "", body
        try:
            for call, takes_event, name, source, merge in program:  # noqa: B007
                if merge is not None:
                    value = {key: values[i] for key, i in merge}
                    if call is not None:  # a merge class (MLRun's Merge) shapes the join
                        value = call(value)
                else:
                    value = values[source]
                    value = call(value, event) if takes_event else call(value)
                values.append(value)
        except Exception as exc:  # noqa: BLE001 - a failed step is an answer, not a crash
            return failed(event, name, value, exc)
        return answer(event, values[answer_at], has_responder)

    return run_dag
