"""MockServer: the graph in-process, with MLRun's ``test()`` call for notebooks and tests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from nuserve.context import ServingContext
from nuserve.event import Event, Response, Stream
from nuserve.server.graph_server import GraphServer
from nuserve.spec.serving import ServingSpec


class MockResponseError(RuntimeError):
    """``test()`` got a status ≥ 300 and was not told to be ``silent``."""

    def __init__(self, response: Response) -> None:
        error = response.body.get("error") if isinstance(response.body, dict) else response.body
        super().__init__(f"request failed ({response.status_code}): {error}")
        self.status_code = response.status_code
        self.response = response


class MockServer(GraphServer):
    """A ``GraphServer`` started at once, answering ``test()`` calls."""

    def __init__(
        self,
        spec: ServingSpec,
        namespaces: list[tuple[str, Mapping[str, Any]]] | None = None,
        code_dirs: list[Path] | None = None,
        context: ServingContext | None = None,
        current_function: str = "*",
        project: str = "",
        default_content_type: str | None = None,
    ) -> None:
        context = context or ServingContext(is_mock=True)
        context.current_function = current_function
        context.project = context.project or project
        super().__init__(spec, context, namespaces, code_dirs)
        self.default_content_type = default_content_type or self.default_content_type
        self.start()

    def wait_for_completion(self) -> None:
        """MLRun's call to end the asynchronous flow and wait for the events in flight.

        ``test()`` answers once the whole flow ran (both engines), so nothing is left in
        flight here; the call is kept so MLRun's tests and notebooks run unchanged.
        """

    def test(
        self,
        path: str = "/",
        body: Any = None,
        method: str = "",
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
        silent: bool = False,
        get_body: bool = True,
        event_id: str | None = None,
        trigger: Any = None,
        offset: int | None = None,
        time: float | None = None,
    ) -> Any:
        """Send one request; returns the body, or the ``Response`` when ``get_body=False``.

        A status of 300 or more raises ``MockResponseError`` unless ``silent`` is true, when
        the ``Response`` is returned (MLRun's rule; so is a bare answer with no body, such as
        a model step's ``/ready``). Text sent as JSON is encoded, as a client would send it.
        A streamed answer (a generator ``predict`` with ``set_streaming``, ``"stream": true``
        to an OpenAI endpoint) is an iterator of its chunks: text for a text or event stream,
        one object per line of JSON lines, bytes otherwise (``get_body=False``: the
        ``Response``, its body a ``Stream``).
        """
        content_type = content_type or self.default_content_type
        if isinstance(body, str) and content_type and "json" in content_type:
            body = body.encode()  # text a client sends as JSON is bytes on the wire
        event = Event(
            body,
            path,
            method or ("GET" if body is None else "POST"),
            headers,
            content_type,
            event_id,
        )
        if trigger is not None:
            kind = trigger.get("kind") if isinstance(trigger, dict) else trigger
            event.trigger = kind if isinstance(kind, str) else getattr(kind, "kind", "http")
        if offset is not None or time is not None:
            event.offset, event.time = offset, time
        response = self.run(event)
        if response.status_code >= 300:
            if not silent:
                raise MockResponseError(response)
            return response
        if get_body and type(response.body) is Stream:
            return self.chunks(response.body)
        return response.body if get_body and response.body is not None else response

    def chunks(self, stream: Stream) -> Iterator[Any]:
        """A stream's chunks, read on this server's loop as the caller iterates."""
        decode: Any = bytes
        if stream.media_type.startswith(("text/", "text/event-stream")):
            decode = bytes.decode
        elif stream.media_type == "application/x-ndjson":
            decode = orjson.loads
        try:
            while True:
                try:
                    chunk = self.complete(anext(stream.chunks))
                except StopAsyncIteration:
                    return
                yield decode(chunk)
        finally:
            self.complete(stream.aclose())
