"""The asyncio engine: a chain runs inline in one coroutine; branches run concurrently.

Where a step feeds several, its branches run under ``asyncio.gather`` and each walks on
until it ends or reaches a merge. A merge is run by the last of its inputs to arrive, so it
waits for all of them without a future or a lock (one event loop thread). The answer waits
for the whole flow, so a stream event's offset is committed only after every step ran; an
error in any branch is reported once every branch has finished (none is left running).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from nuserve.event import Event, Response
from nuserve.graph.node import RAW_BODIES, Dispatch, Node, Plan, answer, read_body
from nuserve.graph.order import children_of


class StepFailed(Exception):
    """Carries a step's error, with the step's name and input, up to the dispatch."""

    def __init__(self, name: str, body: Any, error: Exception) -> None:
        super().__init__(name)
        self.name, self.body, self.error = name, body, error


class _Step:
    """A node with its successors resolved, so the walk does no lookups."""

    __slots__ = ("call", "children", "is_answer", "is_async", "merge_keys", "name", "takes_event")

    def __init__(self, node: Node, is_answer: bool) -> None:
        self.name = node.name
        self.call: Callable[..., Any] | None = node.call
        self.takes_event = node.takes_event
        self.is_async = node.is_async
        self.is_answer = is_answer
        self.merge_keys = node.after if node.kind == "merge" else None
        self.children: tuple[_Step, ...] = ()


class _Run:
    """One event's state: the answer so far and the inputs waiting at merges."""

    __slots__ = ("answer", "event", "waiting")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.answer: Any = None
        self.waiting: dict[str, dict[str, Any]] | None = None

    def arrive(self, merge: _Step, parent: str, body: Any) -> tuple[bool, Any]:
        """Record ``parent``'s output at ``merge``: ``(True, joined)`` once all are in."""
        if self.waiting is None:
            self.waiting = {}
        got = self.waiting.setdefault(merge.name, {})
        got[parent] = body
        keys = merge.merge_keys or ()
        if len(got) < len(keys):
            return False, None
        return True, {key: got[key] for key in keys}


async def _walk(step: _Step, body: Any, run: _Run) -> None:
    while True:
        call = step.call
        if call is not None:
            try:
                out = call(body, run.event) if step.takes_event else call(body)
                if step.is_async:
                    out = await out
            except Exception as exc:  # reported by the dispatch
                raise StepFailed(step.name, body, exc) from exc
            body = out
        if step.is_answer:
            run.answer = body
        children = step.children
        if not children:
            return
        if len(children) > 1:
            await _fork(step.name, children, body, run)
            return
        child = children[0]
        if child.merge_keys is not None:
            complete, body = run.arrive(child, step.name, body)
            if not complete:
                return
        step = child


async def _enter(parent: str, step: _Step, body: Any, run: _Run) -> None:
    if step.merge_keys is not None:
        complete, body = run.arrive(step, parent, body)
        if not complete:
            return
    await _walk(step, body, run)


async def _fork(parent: str, children: tuple[_Step, ...], body: Any, run: _Run) -> None:
    results = await asyncio.gather(
        *(_enter(parent, child, body, run) for child in children), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result


def compile_async(flow: Plan) -> Dispatch:
    steps = {n.name: _Step(n, n is flow.answer_node) for n in flow.order}
    for name, children in children_of(flow.order).items():
        steps[name].children = tuple(steps[c.name] for c in children)
    roots = tuple(steps[n.name] for n in flow.order if not n.after)
    has_responder, failed = flow.has_responder, flow.failed_async
    root = roots[0] if len(roots) == 1 else None

    async def run_async(event: Event) -> Response:
        body = event.body
        if body.__class__ in RAW_BODIES:
            body = read_body(event)
        run = _Run(event)
        try:
            if root is not None:
                await _walk(root, body, run)
            else:
                await _fork("", roots, body, run)
        except StepFailed as failure:
            return await failed(event, failure.name, failure.body, failure.error)
        return answer(event, run.answer, has_responder)

    return run_async
