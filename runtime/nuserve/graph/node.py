"""Node: a built step as the engines see it, and the reading of a raw event body."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from typing import Protocol as Interface

from nuserve.errors import BadRequest
from nuserve.event import Event, Response
from nuserve.protocols import decode_json, is_raw

Dispatch = Callable[[Event], "Response | Awaitable[Response]"]
"""What a frozen flow answers an event with (the router's ``dispatch`` contract)."""
RAW_BODIES = frozenset({bytes, bytearray, memoryview, str})


@dataclass(eq=False)
class Node:
    """One step ready to run: ``call(body)`` (or ``call(body, event)``) returns the next body."""

    name: str
    kind: str
    """``task``, ``router``, ``queue`` or ``merge``."""
    call: Callable[..., Any] | None
    """``None`` for a merge, which the engine itself performs."""
    takes_event: bool = False
    """``call`` also takes the event (routers need its path)."""
    is_async: bool = False
    """``call`` returns an awaitable (decided when the step is built, not per event)."""
    after: tuple[str, ...] = ()
    responder: bool = False
    target: Any = None
    """What the step runs (a Step, a function, a router, a stream), for ``models``/``close``."""


def read_body(event: Event) -> Any:
    """A raw body (bytes, or text) as JSON when the content type is JSON or not given.

    Flow steps get Python values; Kafka messages come with no content type. Other content
    types keep the raw body. An empty body is ``None``. As in MLRun, a body that is not JSON
    is refused (400) only when its content type says JSON; with none it stays as it came.
    """
    body = event.body
    if not body:
        return None
    ctype = event.content_type
    if (ctype and "json" not in ctype) or not is_raw(body, ctype):
        return body  # not JSON, or a JSON string that Nuclio decoded already
    try:
        return decode_json(body)
    except BadRequest as exc:
        if not ctype:
            return body  # MLRun's rule: with no content type, what is not JSON stays as is
        raise BadRequest(
            f"{exc.message}; a flow reads JSON bodies (send another content type, such as "
            "text/plain, to pass the body to the first step as it is)"
        ) from None


def answer(event: Event, value: Any, has_responder: bool) -> Response:
    """The response: the answer's value; ``{"id"}`` for a stream event with no responder."""
    if type(value) is Response:
        return value
    if has_responder or event.trigger == "http":
        return Response(value)
    return Response({"id": event.id})


class Plan(Interface):
    """What an engine compiles: a frozen flow (``Flow.freeze`` sets these, then compiles)."""

    order: list[Node]
    """Every step, each after its inputs."""
    answer_node: Node | None
    """The step whose output is the answer: the responder, else the last step."""
    has_responder: bool
    streaming: bool
    """Chunks a step makes (a generator) go out as a stream (``fn.set_streaming``)."""

    def failed(self, event: Event, step: str, body: Any, error: Exception) -> Response: ...

    async def failed_async(
        self, event: Event, step: str, body: Any, error: Exception
    ) -> Response: ...
