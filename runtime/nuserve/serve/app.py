"""The ASGI app of ``nuserve serve``: each request gets the answer Nuclio's handler gives.

No web framework: a request becomes the event ``nuserve.nuclio.adapter`` makes of a Nuclio
HTTP event (``events.request_event``), runs on the same ``GraphServer``, and is answered by
the adapter's own rules (``encoded``), so local answers are Nuclio's answers; stream events go
through ``handler_async`` itself. ``init_context`` runs once per worker process at lifespan
startup, with the function.yaml's directory first on ``sys.path`` as Nuclio puts the code
directory (``/opt/nuclio``) first on ``PYTHONPATH`` (``code_on_path``: a model class in a
module beside the code file imports the same under both); kafka-cluster triggers of the
function.yaml start then too. Nothing here raises to
the server: any failure is a JSON ``{"error", "id"}`` answer, never a traceback, and a 5xx
message has this machine's paths redacted (``nuserve.nuclio.redact``).

Hostile clients meet limits here: a body over ``max_body_size`` is refused (413) without being
read further, a body not complete within ``body_timeout`` is refused (408), and both close the
connection; with a token set, a request without it is refused (401) before anything else.
Past ``max_in_flight`` requests at once, one more gets 503 with ``Retry-After`` before its
body is read (admission control: under 1,000 connections, p99 was seconds, and no client was
told to back off); with ``strict_content_type``, a body that says it is not JSON gets 415.
What uvicorn parses before the app sees a request (the head) is bounded by ``connection``.

The request path is kept lean (it is benchmarked against a bare ASGI app): header names are
converted through a cache, the body is joined only when it came in several chunks, and
nothing is logged per request. A body that uvicorn had whole before the app was called (its
request cycle's ``more_body`` is already false, the common case) is read without a deadline:
there is nothing left to wait for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path
from time import perf_counter
from typing import Any

import nuclio_sdk
import orjson

from nuserve.codec import JSON, JSON_OPTIONS
from nuserve.errors import NuserveError
from nuserve.event import Event, Response, Stream, new_event_id
from nuserve.nuclio.adapter import (
    answer_async,
    encoded,
    handler_async,
    init_context,
    stream_head,
)
from nuserve.nuclio.redact import redact_paths
from nuserve.openapi import OPENAPI_PATH, document_json
from nuserve.openapi.document import METRICS_PATH
from nuserve.routers.router import NAME_LIMIT, READ_METHODS
from nuserve.serve import kafka, metrics
from nuserve.serve.auth import CHALLENGE, check_bearer
from nuserve.serve.config import FAILED_PREFIX, OVERLOADED, ServeConfig
from nuserve.serve.context import new_context
from nuserve.serve.deadlines import Deadlines
from nuserve.serve.events import read_headers, request_event, response_head, streamed_head
from nuserve.serve.hot_path import HotRoute, header_dict, hot_routes, usable
from nuserve.serve.served import served_names, serving_line
from nuserve.serve.streaming import stream_out
from nuserve.serve.throttle import Throttle
from nuserve.serve.types import Receive, Scope, Send

JSON_HEADERS = [(b"content-type", b"application/json")]
RETRY_AFTER = (b"retry-after", b"1")
LOAD_NOTICE_S = 5.0
"""Seconds between two "still loading" lines of a worker whose models take long."""
LIVE_PATH = "/v2/health/live"
"""Answered past the in-flight limit too: an overloaded worker is alive."""
METRICS_HEADERS = [(b"content-type", metrics.CONTENT_TYPE.encode())]
CLIENT_GONE = 499
"""Status recorded (never sent) for a request whose client left before the answer."""
log = logging.getLogger("nuserve.serve")


def code_on_path(config: ServeConfig) -> str:
    """Put the function.yaml's directory (the code root of a deploy directory) first on
    ``sys.path``, as Nuclio's processor puts its code directory first on ``PYTHONPATH``;
    returns it."""
    root = str(Path(config.spec_path).resolve().parent)
    if sys.path[:1] != [root]:
        sys.path.insert(0, root)
    return root


class App:
    """One worker's ASGI app; ``create_app`` builds it from the environment."""

    def __init__(self, config: ServeConfig, on_result: kafka.OnResult | None = None) -> None:
        self.config = config
        self.on_result = on_result
        self.metrics = metrics.Metrics()
        self.context: Any = None
        self.max_body_size = 0
        self.stream_contexts: dict[str, Any] = {}
        self.consumers: list[kafka.KafkaConsumer] = []
        self.writer: asyncio.Task[None] | None = None
        self.throttle = Throttle()
        self.token = config.auth_token.encode() if config.auth_token else None
        self.deadlines = Deadlines(config.body_timeout)
        self.openapi: bytes | None = None
        """This worker's OpenAPI document, kept once every model has loaded."""
        self.grpc: Any = None
        """This worker's gRPC server (``--grpc-port``), started after the graph."""
        self.hot: dict[str, HotRoute] = {}
        """The paths whose JSON POSTs take the hot path (``hot_path``), found at startup."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.token is not None:
                refused = check_bearer(scope["headers"], self.token)
                if refused is not None:
                    await self.unauthorized(send, refused)
                    return
            path = scope["path"]
            if path in (METRICS_PATH, OPENAPI_PATH):
                await self.answer_server_path(path, scope["method"], send)
                return
            counters = self.metrics
            series = counters.series(path)
            limit = self.config.max_in_flight
            over = limit and (counters.in_flight >= limit or OVERLOADED in scope)
            if over and path != LIVE_PATH:
                series.observe(await self.overloaded(send), 0.0)
                return
            counters.in_flight += 1
            started = perf_counter()
            status = 500
            try:
                route = self.hot.get(path) if scope["method"] == "POST" else None
                given = header_dict(scope["headers"]) if route is not None else None
                if route is not None and given is not None and usable(given):  # ``hot_path``
                    status = await self.answer_hot(route, given, scope, receive, send)
                else:
                    status = await self.answer(scope, receive, send)
            except Exception as exc:  # noqa: BLE001 - the client gets JSON, never a traceback
                await self.internal_error(scope, send, exc)
            finally:
                counters.in_flight -= 1
                series.observe(status, perf_counter() - started)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> int:
        """Read the body (up to the limit), run the handler, write its response."""
        context = self.context
        if context is None:
            return await _json(send, 503, "the server has not started (lifespan startup)")
        headers = read_headers(scope["headers"])
        length = headers.get("Content-Length")
        if self.config.strict_content_type:
            refused = not_json(headers, length)
            if refused is not None:
                return await _json(send, 415, refused, request_id=headers.get("X-Request-Id"))
        raw = await self.read_body(receive, send, length, headers.get("X-Request-Id"))
        if isinstance(raw, int):
            return raw
        return await self.respond(scope, raw, headers, receive, send)

    async def read_body(
        self, receive: Receive, send: Send, length: str | None, request_id: str | None
    ) -> bytes | bytearray | int:
        """The whole body; else the status of the refusal already sent (413, 408), or
        ``CLIENT_GONE``."""
        limit = self.max_body_size
        if length is not None and length.isdigit() and int(length) > limit:
            return await self.too_large(send, request_id, int(length))
        expected = int(length) if length is not None and length.isdigit() else None
        if getattr(getattr(receive, "__self__", None), "more_body", True):
            try:
                raw = await self.deadlines.run(_read_body(receive, limit, expected))
            except TimeoutError:
                return await self.too_slow(send, request_id)
        else:  # uvicorn's cycle has the whole body already: nothing to wait for
            raw = await _read_body(receive, limit, expected)
        if raw is None:
            return CLIENT_GONE
        if len(raw) > limit:
            return await self.too_large(send, request_id, None, len(raw))
        return raw

    async def respond(
        self,
        scope: Scope,
        raw: bytes | bytearray,
        headers: dict[str, str],
        receive: Receive,
        send: Send,
    ) -> int:
        """Run the request's event through the graph and write its answer."""
        event, lenient = request_event(scope, raw, headers)
        server = self.context.user_data.server
        if lenient:  # decoded as Nuclio's wrapper would: the adapter's checks apply
            response = await answer_async(server, event, len(raw))
        else:
            response = await server.run_async(event)
        return await self.send_response(response, event.id, receive, send)

    async def send_response(
        self, response: Response, event_id: str, receive: Receive, send: Send
    ) -> int:
        """Write an answer as the adapter encodes it (a stream as it comes)."""
        if type(response.body) is Stream:
            stream_headers, media_type = stream_head(response, event_id)
            head = streamed_head(stream_headers, media_type)
            return await stream_out(response.status_code, head, response.body.chunks, receive, send)
        status, body, content_type = encoded(response, event_id)
        head = response_head(response, event_id, body, content_type)
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": body})
        return status

    async def answer_hot(
        self,
        route: HotRoute,
        given: dict[bytes, bytes],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> int:
        """``answer`` for a hot route (``hot_path``): the same answer through fewer layers."""
        given_length = given.get(b"content-length")
        given_id = given.get(b"x-request-id")
        request_id = given_id.decode("latin-1") if given_id else None
        length = None if given_length is None else given_length.decode("latin-1")
        whole = not getattr(getattr(receive, "__self__", None), "more_body", True)
        if whole and length is not None and length.isdigit() and int(length) <= self.max_body_size:
            message = await receive()  # uvicorn has the whole body: one message, no deadline
            if message["type"] != "http.request":
                return CLIENT_GONE
            raw: bytes | bytearray = message.get("body", b"")
        else:
            read = await self.read_body(receive, send, length, request_id)
            if isinstance(read, int):
                return read
            raw = read
        try:
            body = orjson.loads(raw)
        except ValueError:
            body = None
        if type(body) is not dict:
            return await self.respond(scope, raw, read_headers(scope["headers"]), receive, send)
        event = Event(body, scope["path"], "POST", {}, JSON, request_id or new_event_id(), "http")
        try:
            if route.is_async:
                response = await route.model.infer_async(event, route.operation, route.protocol)
            else:
                response = route.model.infer(event, route.operation, route.protocol)
        except NuserveError as exc:
            response = self.context.user_data.server.error_response(exc, event)
        except Exception as exc:  # noqa: BLE001 - the server must keep serving
            response = self.context.user_data.server.internal_error(exc, event)
        status = response.status_code
        answer = response.body
        if type(answer) is not dict or response.headers or status >= 500:
            return await self.send_response(response, event.id, receive, send)
        try:
            data = orjson.dumps(answer, option=JSON_OPTIONS)
        except TypeError:  # the general encoder names the type in a 500
            return await self.send_response(response, event.id, receive, send)
        head = [
            JSON_HEADERS[0],
            (b"content-length", b"%d" % len(data)),
            (b"x-request-id", given_id or event.id.encode("latin-1", "replace")),
        ]
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": data})
        return status

    async def internal_error(self, scope: Scope, send: Send, exc: Exception) -> None:
        """Log the traceback (bounded) and answer 500 JSON, if the answer has not started."""
        held = self.throttle.allow()
        if held is not None:
            note = self.throttle.note(held)
            log.error("%s %s failed%s", scope["method"], scope["path"], note, exc_info=exc)
        await _failure(send, redact_paths(f"internal error: {type(exc).__name__}: {exc}"))

    async def too_large(
        self, send: Send, request_id: str | None, size: int | None, read: int = 0
    ) -> int:
        """413 without reading the rest of the body; the connection is closed after it. The
        message is the graph's own (``GraphServer.too_large``, what the Nuclio handler answers
        for the same body) when the size was declared; else it says how much was read."""
        server = self.context.user_data.server
        if size is not None:
            message = server.too_large(size).message
        else:
            message = (
                f"request body is more than {read} bytes (read so far), over the limit of "
                f"{self.max_body_size} bytes (max_body_size in the serving spec)"
            )
        return await _json(send, 413, message, close=True, request_id=request_id)

    async def overloaded(self, send: Send) -> int:
        """503 with ``Retry-After`` when this worker answers ``max_in_flight`` requests."""
        message = (
            f"this worker is answering {self.config.max_in_flight} requests (max_in_flight); "
            "retry after a second, or serve with more workers"
        )
        return await _json(send, 503, message, extra=RETRY_AFTER)

    async def too_slow(self, send: Send, request_id: str | None = None) -> int:
        """408 when the body did not arrive in time; the connection is closed after it."""
        message = (
            f"request body not received within {self.config.body_timeout:g} s (body_timeout); "
            "send the whole body promptly, and a Content-Length that matches it"
        )
        return await _json(send, 408, message, close=True, request_id=request_id)

    async def unauthorized(self, send: Send, reason: str) -> None:
        """401 with the Bearer challenge; the connection is closed after it."""
        self.metrics.labelled("", "unauthorized").observe(401, 0.0)
        await _json(send, 401, reason, close=True, extra=CHALLENGE)

    async def answer_server_path(self, path: str, method: str, send: Send) -> None:
        """``/metrics`` and ``/openapi.json``: GET and HEAD (uvicorn drops a HEAD answer's
        body), anything else a 405. They are the server's, not the graph's: another method
        once fell through to the router and got its 404."""
        if method not in READ_METHODS:
            error = f"{path} accepts GET or HEAD, not {method[:NAME_LIMIT]}"
            await _json(send, 405, error, extra=(b"allow", b"GET, HEAD"))
        elif path == METRICS_PATH:
            await self.answer_metrics(send)
        else:
            await self.answer_openapi(send)

    async def answer_metrics(self, send: Send) -> None:
        try:
            body = self.metrics.render(self.config.metrics_dir).encode()
        except Exception as exc:  # noqa: BLE001 - a scrape must not break the worker
            await _failure(send, redact_paths(f"cannot read metrics: {type(exc).__name__}: {exc}"))
            return
        headers = [*METRICS_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def answer_openapi(self, send: Send) -> None:
        """The OpenAPI document of this worker's graph (``nuserve.openapi``), built on the
        first request; kept once every model is loaded, as it then knows their input widths."""
        body = self.openapi
        if body is None:
            server = getattr(getattr(self.context, "user_data", None), "server", None)
            if server is None:
                await _json(send, 503, "the server has not started (lifespan startup)")
                return
            try:
                body = document_json(server, bearer_auth=self.token is not None)
            except Exception as exc:  # noqa: BLE001 - a document must not break the worker
                error = f"cannot build the OpenAPI document: {type(exc).__name__}: {exc}"
                await _failure(send, redact_paths(error))
                return
            if all(model.ready for model in server.root.models()):
                self.openapi = body
        headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def handle_stream(self, event: Any) -> Any:
        """Run one stream event on this loop (``kafka`` calls it from its thread)."""
        series = self.metrics.labelled("", "stream")
        self.metrics.in_flight += 1
        started = perf_counter()
        response: Any = None
        try:
            response = await handler_async(self.stream_contexts[event.trigger.name], event)
            return response
        finally:
            self.metrics.in_flight -= 1
            series.observe(getattr(response, "status_code", 500), perf_counter() - started)

    # ----- lifespan -----------------------------------------------------------------------

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:  # noqa: BLE001 - reported to uvicorn and run()
                    text = f"nuserve worker {os.getpid()} failed to start: {exc}"
                    self.report_failure(text)
                    await send({"type": "lifespan.startup.failed", "message": text})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        """Build the graph (``init_context``, in a thread: models may run their own loop)."""
        config = self.config
        code_on_path(config)
        context = new_context(config.log_level)
        began = perf_counter()
        loading = asyncio.ensure_future(
            asyncio.to_thread(init_context, context, config.handler_environ())
        )
        while True:  # a long load says it is still going, every LOAD_NOTICE_S
            done, _ = await asyncio.wait([loading], timeout=LOAD_NOTICE_S)
            if done:
                break
            if config.address:
                took = perf_counter() - began
                sys.stderr.write(f"nuserve serve: worker {os.getpid()} loading ({took:.0f} s)\n")
        loading.result()
        if config.address:
            sys.stderr.write(serving_line(config.address, context, perf_counter() - began))
        self.deadlines.start()
        self.metrics.inits += 1
        self.max_body_size = context.user_data.server.max_body_size
        self.metrics.set_models(served_names(context.user_data.server))
        tracker = context.user_data.server.tracker
        if tracker is not None:
            self.metrics.tracking = tracker.stats
        lanes = context.user_data.server.lanes
        if lanes is not None:
            self.metrics.timeouts = lanes.stats
        self.context = context
        if not config.strict_content_type:  # the hot path takes JSON without asking
            self.hot = hot_routes(context.user_data.server)
        if config.grpc_port:
            from nuserve.serve import grpc_service  # noqa: PLC0415 - grpcio only when asked

            self.grpc = await grpc_service.start(
                context.user_data.server,
                self.metrics,
                config.grpc_host,
                config.grpc_port,
                self.max_body_size,
                self.token,
            )
        if config.metrics_dir:
            self.writer = asyncio.create_task(
                metrics.write_periodically(self.metrics, config.metrics_dir)
            )
        triggers = kafka.kafka_triggers(config.spec_path)
        acks: dict[str, kafka.Acks] = {}
        for trigger in triggers:
            acks[trigger.name] = kafka.Acks()
            platform = nuclio_sdk.Platform("local", on_control_callback=acks[trigger.name].control)
            info = nuclio_sdk.TriggerInfo(kafka.KIND, trigger.name)
            stream_context = new_context(config.log_level, info, platform)
            stream_context.user_data = context.user_data
            self.stream_contexts[trigger.name] = stream_context
        loop = asyncio.get_running_loop()
        on_result = self.on_result or kafka.no_result
        self.consumers = kafka.start_consumers(triggers, self.handle_stream, loop, on_result, acks)

    async def shutdown(self) -> None:
        """Stop the consumers (their last event may still run here), then close the streams
        and the graph."""
        await self.deadlines.stop()
        if self.grpc is not None:
            await self.grpc.stop(grace=5)
        if self.consumers:
            await asyncio.to_thread(kafka.stop_consumers, self.consumers)
        output = getattr(getattr(self.context, "user_data", None), "stream_output", None)
        if output is not None:
            await asyncio.to_thread(output.close)
        if self.writer is not None:
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.writer
        if self.config.metrics_dir:
            self.metrics.remove_snapshot(self.config.metrics_dir)
        server = getattr(getattr(self.context, "user_data", None), "server", None)
        close = getattr(server, "close", None)
        if callable(close):
            close()
        self.context = None
        self.hot = {}

    def report_failure(self, text: str) -> None:
        """Leave the reason in the shared directory, where ``workers.run`` reads it."""
        if self.config.metrics_dir:
            with contextlib.suppress(OSError):
                Path(self.config.metrics_dir, f"{FAILED_PREFIX}{os.getpid()}.txt").write_text(text)


def create_app() -> App:
    """The factory uvicorn calls in each worker process (``factory=True``)."""
    return App(ServeConfig.from_env())


def not_json(headers: dict[str, str], length: str | None) -> str | None:
    """Why a request with a body is refused in strict mode (its content type is not JSON:
    ``application/json`` or ``application/<x>+json``), else ``None``."""
    if (length is None or length == "0") and "Transfer-Encoding" not in headers:
        return None  # no body: nothing to type
    given = headers.get("Content-Type", "")
    media = given.partition(";")[0].strip().lower()
    if media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return None
    shown = repr(given[:NAME_LIMIT]) if given else "none"
    return (
        f"Content-Type {shown} is not JSON, and this server takes JSON only "
        "(--strict-content-type); send Content-Type: application/json"
    )


LARGE_BODY = 1 << 20
"""Bodies of this many bytes or more (by Content-Length) are read into one buffer sized
once: chunks joined at the end held the body twice (a 64 MB binary tensor peaked at 2x)."""


async def _read_body(
    receive: Receive, limit: int, expected: int | None = None
) -> bytes | bytearray | None:
    """The body, or its first chunks once they pass ``limit``; ``None`` if the client left.

    A large body of known length is a ``bytearray`` filled in place (the protocols read it
    as they read bytes; binary tensors are views of it)."""
    message = await receive()
    if message["type"] != "http.request":
        return None
    raw: bytes = message.get("body", b"")
    if expected is not None and expected >= LARGE_BODY and message.get("more_body", False):
        buffer = bytearray(expected)
        view = memoryview(buffer)
        size = len(raw)
        view[:size] = raw
        while message.get("more_body", False):
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk: bytes = message.get("body", b"")
            if size + len(chunk) > expected:  # more than it said: past the limit check
                return bytes(buffer[:size]) + chunk
            view[size : size + len(chunk)] = chunk
            size += len(chunk)
        view.release()
        return buffer if size == expected else buffer[:size]
    if message.get("more_body", False):
        chunks, size = [raw], len(raw)
        while message.get("more_body", False) and size <= limit:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
    return raw


async def _json(
    send: Send,
    status: int,
    error: str,
    close: bool = False,
    extra: tuple[bytes, bytes] | None = None,
    request_id: str | None = None,
) -> int:
    """An error answered by the server itself; it carries the client's ``X-Request-Id`` when
    the head had one (as every answer of the graph does), else a new id."""
    event_id = request_id or new_event_id()
    body = orjson.dumps({"error": error, "id": event_id})
    headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    headers.append((b"x-request-id", event_id.encode("latin-1", "replace")))
    if close:
        headers.append((b"connection", b"close"))
    if extra is not None:
        headers.append(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return status


async def _failure(send: Send, error: str) -> None:
    """A 500 if the response has not started yet; else there is nothing left to do."""
    with contextlib.suppress(Exception):
        await _json(send, 500, error)
