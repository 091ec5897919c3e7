"""The Nuclio adapter: ``init_context`` and ``handler`` for Nuclio's Python runtime.

``init_context`` runs once per worker: it reads the serving spec (env ``NUSERVE_SPEC``, JSON,
or ``gz:`` + base64 of gzipped JSON when large; or a file named by ``NUSERVE_SPEC_PATH``),
builds the graph, loads the models and keeps the server on ``context.user_data.server``.
``handler`` converts each Nuclio event (HTTP, kafka-cluster, v3ioStream, or a list of them in
trigger batch mode) and always answers a ``context.Response`` with a JSON body: nothing it
does may raise, since Nuclio would send the traceback to the client. The answers to stream
events go on to ``nuserve.nuclio.stream_output`` (output and dead-letter streams, explicit ack);
HTTP events pay one set lookup for that.

Whatever the trigger hands over, the same rules apply as under ``nuserve serve``: a body
Nuclio's wrapper already decoded from JSON (Python's ``json`` reads ``NaN`` and ``1e400``)
is checked for non-finite numbers (a 400 naming where, ``nuserve.protocols.finite``) and
for size (``event.size``, the raw body's length, against ``max_body_size``: a 413), and a
request id that the trigger repeats is replaced (``nuserve.nuclio.request_ids``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nuclio_sdk
import orjson

from nuserve.codec import encode_response
from nuserve.context import ServingContext
from nuserve.errors import NuserveError
from nuserve.event import Event, Response, Stream
from nuserve.nuclio.redact import redact_error_body, redact_paths
from nuserve.nuclio.request_ids import RequestIds
from nuserve.nuclio.spec_env import (
    CODE_DIR_ENV,
    SPEC_PATH_ENV,
    read_spec,
)
from nuserve.nuclio.stream_output import STREAM_KINDS, StreamOutput, finish, finish_async
from nuserve.protocols.finite import check_finite
from nuserve.server.graph_server import GraphServer

HTTP_KINDS = frozenset({"http", "", None})
SDK_STREAMS = hasattr(nuclio_sdk, "RESPONSE_WITH_GENERATOR_BODY")
"""nuclio-sdk >= 0.6 (Nuclio >= 1.15) sends a generator body as it comes; with an older one
(Nuclio 1.14 installs 0.5.13) a streamed answer is joined into one body."""


class _NuclioLogHandler(logging.Handler):
    """Forwards nuserve's log records to Nuclio's logger (which ships them to the processor)."""

    def __init__(self, nuclio_logger: Any) -> None:
        super().__init__()
        self.nuclio_logger = nuclio_logger

    def emit(self, record: logging.LogRecord) -> None:
        level = record.levelno
        method = (
            "error"
            if level >= logging.ERROR
            else "warn"
            if level >= logging.WARNING
            else ("info" if level >= logging.INFO else "debug")
        )
        try:
            getattr(self.nuclio_logger, method)(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never break serving
            self.handleError(record)


def init_context(context: Any, environ: Mapping[str, str] | None = None) -> None:
    """Build and start this worker's graph; Nuclio calls it once per worker."""
    logger = logging.getLogger("nuserve")
    if getattr(context, "logger", None) is not None and not any(
        isinstance(h, _NuclioLogHandler) for h in logger.handlers
    ):
        logger.addHandler(_NuclioLogHandler(context.logger))
        logger.setLevel(logging.INFO)
        logger.propagate = False
    env = os.environ if environ is None else environ
    spec = read_spec(env)
    serving_context = ServingContext(
        logger=logger, worker_id=getattr(context, "worker_id", None), function_name=spec.name
    )
    code_dirs = [Path(d) for d in (env.get(CODE_DIR_ENV), os.getcwd()) if d]
    if env.get(SPEC_PATH_ENV):
        code_dirs.append(Path(env[SPEC_PATH_ENV]).resolve().parent)
    server = GraphServer(spec, serving_context, code_dirs=code_dirs).start()
    context.user_data.server = server
    context.user_data.request_ids = RequestIds()
    output = StreamOutput.from_spec(spec)
    context.user_data.stream_output = output
    on_termination = getattr(getattr(context, "platform", None), "set_termination_callback", None)
    if output is not None and callable(on_termination):
        on_termination(output.close)  # flush the producers when Nuclio stops the worker


def to_event(nuclio_event: Any, ids: RequestIds | None = None) -> Event:
    """A nuserve Event from a Nuclio one; stream events are routed by body, not path.

    The id is the client's ``X-Request-Id``, else the trigger's event id as ``ids`` (this
    worker's memory) lets it through: a missing or repeated one becomes a fresh id.
    """
    trigger = nuclio_event.trigger
    kind = getattr(trigger, "kind", "http") or "http"
    headers = nuclio_event.headers or {}
    request_id = headers.get("X-Request-Id") or headers.get("x-request-id") if headers else None
    if request_id:
        event_id = request_id if type(request_id) is str else _text(request_id)
    elif ids is not None:
        event_id = ids.pick(nuclio_event.id)
    else:
        event_id = _text(nuclio_event.id)
    if kind in HTTP_KINDS:
        return Event(
            nuclio_event.body,
            nuclio_event.path or "/",
            nuclio_event.method or "POST",
            headers,
            nuclio_event.content_type,
            event_id,
            "http",
        )
    return Event(
        nuclio_event.body,
        "/",
        "POST",
        {k: _text(v) or "" for k, v in headers.items()},
        nuclio_event.content_type,
        event_id,
        kind,
        nuclio_event.offset,
        nuclio_event.shard_id,
        nuclio_event.topic or nuclio_event.path,
    )


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return str(value)


def encoded(response: Response, event_id: str) -> tuple[int, bytes, str]:
    """``(status, body bytes, content type)`` of an answer, as every adapter sends it: a 5xx
    message has this machine's paths redacted. The headers are the request's id in
    ``X-Request-Id``, then the response's own, written in each adapter's own form."""
    status, body, content_type = encode_response(response, event_id)
    if status >= 500:
        body = redact_error_body(body)  # a model's OSError may name this machine's files
    return status, body, content_type


def to_nuclio_response(context: Any, response: Response, event_id: str) -> Any:
    if type(response.body) is Stream:
        return streamed_response(context, response, event_id, response.body.chunks)
    status, body, content_type = encoded(response, event_id)
    headers = {"X-Request-Id": event_id}
    if response.headers:
        headers.update((k, str(v)) for k, v in response.headers.items())
    return context.Response(headers, body, content_type, status)


def stream_head(response: Response, event_id: str) -> tuple[dict[str, str], str]:
    """``(headers, content type)`` of a streamed answer, as every adapter sends it."""
    headers = {"X-Request-Id": event_id, "Cache-Control": "no-cache"}
    if response.headers:
        headers.update((k, str(v)) for k, v in response.headers.items())
    media_type = response.body.media_type if type(response.body) is Stream else None
    return headers, media_type or response.content_type


def streamed_response(context: Any, response: Response, event_id: str, body: Any) -> Any:
    """A response whose body is a generator of chunks: nuclio-sdk (>= 0.6) sends the first
    chunk with the status and headers, then each chunk as it comes (``streamingFlushPeriod``
    on the HTTP trigger says how often Nuclio flushes them to the client)."""
    headers, content_type = stream_head(response, event_id)
    return context.Response(headers, body, content_type, response.status_code)


def sync_chunks(server: GraphServer, stream: Stream) -> Any:
    """A stream's chunks as a sync generator (Nuclio's sync handler), on the server's loop."""
    chunks = stream.chunks
    try:
        while True:
            try:
                yield server.complete(anext(chunks))
            except StopAsyncIteration:
                return
    finally:
        server.complete(stream.aclose())


def _server_or_error(context: Any) -> GraphServer | None:
    return getattr(context.user_data, "server", None)


def _ids(context: Any) -> RequestIds | None:
    return getattr(context.user_data, "request_ids", None)


def _refused(server: GraphServer, event: Event, size: Any) -> Response | None:
    """The answer to a body the wrapper decoded that nuserve would not accept raw: one
    over ``max_body_size`` (``size``: the raw body's length; a 413) or holding a non-finite
    number (400); else ``None``."""
    body = event.body
    cls = body.__class__
    if cls is not dict and cls is not list and cls is not float:
        return None  # raw bodies are checked by the core, as under ``nuserve serve``
    try:
        if type(size) is int and size > server.max_body_size:
            raise server.too_large(size)
        check_finite(body)
    except NuserveError as exc:
        return server.error_response(exc, event)
    return None


def _answer(server: GraphServer, event: Event, size: Any) -> Response:
    refused = _refused(server, event, size)
    return refused if refused is not None else server.run(event)


async def answer_async(server: GraphServer, event: Event, size: Any = None) -> Response:
    """The answer to one event whose raw body had ``size`` bytes, as ``handler_async`` gives
    it (``nuserve serve`` calls it for HTTP requests: the same rules, no Nuclio objects)."""
    refused = _refused(server, event, size)
    return refused if refused is not None else await server.run_async(event)


def _unreadable(context: Any, exc: Exception) -> Any:
    """The answer to an event that cannot be converted (a malformed event still gets JSON)."""
    return _failure(context, f"cannot read the event: {type(exc).__name__}: {exc}", 400)


def _not_initialised(context: Any, event: Event) -> Any:
    return _failure(context, "the server is not initialised (init_context failed)", 503, event.id)


def handler(context: Any, event: Any) -> Any:
    """Nuclio's entry point: one event, or a list in trigger batch mode."""
    if isinstance(event, list):
        return _handle_batch(context, event)
    server = _server_or_error(context)
    try:
        ours = to_event(event, _ids(context))
    except Exception as exc:  # noqa: BLE001 - a malformed event still gets a JSON answer
        return _unreadable(context, exc)
    if server is None:
        return _not_initialised(context, ours)
    response = _answer(server, ours, getattr(event, "size", None))
    if type(response.body) is Stream:
        if ours.trigger in STREAM_KINDS or not SDK_STREAMS:  # one message, or an old SDK
            response = server.collected(response)
        else:
            return streamed_response(context, response, ours.id, sync_chunks(server, response.body))
    reply = to_nuclio_response(context, response, ours.id)
    if ours.trigger in STREAM_KINDS:
        return finish(context, event, ours, reply)
    return reply


def _handle_batch(context: Any, events: list[Any]) -> list[Any]:
    """Trigger batch mode: a list in, a list out; mergeable requests share one predict."""
    server = _server_or_error(context)
    if server is None:
        return _matched(events, [handler(context, e) for e in events])
    ours: list[Event] = []
    answers: dict[int, Any] = {}
    refused: dict[int, Response] = {}
    ids = _ids(context)
    for i, nuclio_event in enumerate(events):
        try:
            ours.append(to_event(nuclio_event, ids))
        except Exception as exc:  # noqa: BLE001 - a malformed event still gets a JSON answer
            answers[i] = _failure(context, f"cannot read the event: {exc}", 400)
            ours.append(Event(None))
            continue
        answer = _refused(server, ours[i], getattr(nuclio_event, "size", None))
        if answer is not None:
            refused[i] = answer
    skipped = answers.keys() | refused.keys()
    responses = iter(server.run_batch([e for i, e in enumerate(ours) if i not in skipped]))
    for i, event in enumerate(ours):
        if i not in answers:
            response = refused[i] if i in refused else next(responses)
            reply = to_nuclio_response(context, response, event.id)
            stream = event.trigger in STREAM_KINDS
            answers[i] = finish(context, events[i], event, reply) if stream else reply
    return _matched(events, [answers[i] for i in range(len(events))])


def _matched(events: list[Any], replies: list[Any]) -> list[Any]:
    """Nuclio pairs a batch's responses with its events by ``event_id``: set it on each."""
    for event, reply in zip(events, replies, strict=True):
        reply.event_id = getattr(event, "id", None)
    return replies


async def handler_async(context: Any, event: Any) -> Any:
    """The entry point for Nuclio's async mode: many events in flight per process."""
    if isinstance(event, list):
        return _matched(event, [await handler_async(context, e) for e in event])
    server = _server_or_error(context)
    try:
        ours = to_event(event, _ids(context))
    except Exception as exc:  # noqa: BLE001 - a malformed event still gets a JSON answer
        return _unreadable(context, exc)
    if server is None:
        return _not_initialised(context, ours)
    response = await answer_async(server, ours, getattr(event, "size", None))
    if type(response.body) is Stream and (ours.trigger in STREAM_KINDS or not SDK_STREAMS):
        response = await server.collected_async(response)
    reply = to_nuclio_response(context, response, ours.id)
    if ours.trigger in STREAM_KINDS:
        return await finish_async(context, event, ours, reply)
    return reply


def _failure(context: Any, message: str, status: int, event_id: str = "") -> Any:
    body = orjson.dumps({"error": redact_paths(message), "id": event_id})
    return context.Response(
        body=body, headers={}, content_type="application/json", status_code=status
    )
