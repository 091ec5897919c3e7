"""What happens to the answer of a stream-trigger event: output, dead letter, explicit ack.

A Nuclio adapter (``nuserve.nuclio.adapter``) hands each kafka-cluster or v3ioStream event's answer
here; HTTP events never come here. With ``output_stream`` set in the serving spec, an answer
with status < 400 (the JSON body a client would get; a flow's responder output) is published
there, keyed by the event id and with an ``X-Request-Id`` header. With ``error_stream`` set,
an answer >= 400 (a body that is not JSON, an unknown model, a failed step) goes there as a
dead letter::

    {"error", "status", "id", "topic", "partition", "offset",
     "payload": <the message as utf-8 text, or base64 with "payload_encoding": "base64">}

The handler returns only once the stream confirmed the message, so Nuclio (and the consumer
of ``nuserve serve``) commits an offset only after its answer is written: at-least-once.
For a trigger in ``ack_triggers`` (explicit ack on), the async handler answers with
``ensure_no_ack()`` and calls ``context.platform.explicit_ack`` itself after the write.
When the write fails, the answer is a 503 with ``ensure_no_ack()`` and no ack, logged as an
error: ``nuserve serve`` rewinds and delivers that message again; under Nuclio it stays
unacked, but Kafka offsets are cumulative, so the ack of a later message commits past it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import orjson

from nuserve.codec import dump_json
from nuserve.event import Event
from nuserve.spec.serving import ServingSpec
from nuserve.streams.base import Stream
from nuserve.streams.open import check_stream_url, open_stream

STREAM_KINDS = frozenset({"kafka-cluster", "v3ioStream"})
"""Trigger kinds whose answers go to the output and error streams."""
DELIVERY_TIMEOUT_S = 30.0
"""How long the handler waits for a stream to confirm an answer before giving up (503)."""
NO_ACK = "x-nuclio-stream-no-ack"
"""The response header ``nuclio_sdk.Response.ensure_no_ack()`` sets."""
log = logging.getLogger("nuserve.nuclio.stream_output")


def check_stream_path(path: Any, what: str) -> str | None:
    """``path`` if it names a stream nuserve can write (or is ``None``); else a ConfigError."""
    return check_stream_url(path, what)


def open_output(path: str | None, what: str, timeout: float) -> Stream | None:
    """The stream ``path`` names; a Kafka producer gives up on a message after ``timeout``."""
    checked = check_stream_path(path, what)
    if checked is None:
        return None
    options: dict[str, Any] = {}
    if checked.startswith("kafka://"):
        options["producer_options"] = {"message.timeout.ms": int(timeout * 1000)}
    return open_stream(checked, what, **options)


@dataclass
class StreamOutput:
    """The output and error streams of one worker, and the triggers it acks explicitly."""

    output: Stream | None = None
    errors: Stream | None = None
    ack_triggers: frozenset[str] = frozenset()
    timeout: float = DELIVERY_TIMEOUT_S

    @classmethod
    def from_spec(
        cls, spec: ServingSpec, timeout: float = DELIVERY_TIMEOUT_S
    ) -> StreamOutput | None:
        """The spec's streams; ``None`` when it sets none and acks no trigger (the common case)."""
        if not (spec.output_stream or spec.error_stream or spec.ack_triggers):
            return None
        output = open_output(spec.output_stream, "output_stream", timeout)
        errors = open_output(spec.error_stream, "error_stream", timeout)
        return cls(output, errors, frozenset(spec.ack_triggers), timeout)

    def pick(
        self, event: Event, status: int, body: bytes, payload: Any
    ) -> tuple[Stream, bytes] | None:
        """The stream and message for an answer, or ``None`` when no stream takes it."""
        if status < 400:
            return (self.output, body) if self.output is not None else None
        if self.errors is None:
            return None
        return self.errors, dump_json(dead_letter(event, status, body, payload))

    def send(self, stream: Stream, event: Event, data: bytes) -> Future[None]:
        return stream.send(data, event.id.encode(), {"X-Request-Id": event.id})

    def write(self, event: Event, status: int, body: bytes, payload: Any) -> None:
        """Publish the answer to ``payload`` (the message as received) and wait for the stream
        to confirm it; raises when it failed."""
        picked = self.pick(event, status, body, payload)
        if picked is not None:
            self.send(picked[0], event, picked[1]).result(self.timeout)

    async def write_async(self, event: Event, status: int, body: bytes, payload: Any) -> None:
        """``write`` without blocking the event loop."""
        picked = self.pick(event, status, body, payload)
        if picked is None:
            return
        stream, data = picked
        if stream.blocking:
            future = await asyncio.to_thread(self.send, stream, event, data)
        else:
            future = self.send(stream, event, data)
        await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)

    def close(self) -> None:
        """Deliver what is pending and release the clients."""
        for stream in (self.output, self.errors):
            if stream is not None:
                stream.close()


def dead_letter(event: Event, status: int, body: bytes, payload: Any) -> dict[str, Any]:
    """The error-stream record of an event answered with ``status`` and ``body``.

    ``payload`` is the message as the trigger delivered it: the core may have replaced
    ``event.body`` with its decoded form.
    """
    try:
        answer = orjson.loads(body)
    except ValueError:
        answer = None
    error = answer.get("error") if isinstance(answer, dict) else None
    record: dict[str, Any] = {
        "error": error if error is not None else body.decode("utf-8", "replace"),
        "status": status,
        "id": event.id,
        "topic": event.topic,
        "partition": event.shard_id,
        "offset": event.offset,
    }
    if payload is None or isinstance(payload, str):
        record["payload"] = payload
        return record
    data = bytes(payload) if isinstance(payload, bytes | bytearray | memoryview) else None
    if data is None:
        data = dump_json(payload)  # a body the SDK already decoded from JSON
    try:
        record["payload"] = data.decode("utf-8")
    except UnicodeDecodeError:
        record["payload"] = base64.b64encode(data).decode("ascii")
        record["payload_encoding"] = "base64"
    return record


def _unwritten(context: Any, reply: Any, event: Event, exc: BaseException) -> Any:
    """A 503 the platform must not ack: the answer is not in its stream."""
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    log.error("event %s: the answer could not be written to its stream: %s", event.id, reason)
    body = orjson.dumps(
        {"error": f"the answer could not be written to its stream: {reason}", "id": event.id}
    )
    failed = context.Response(reply.headers, body, "application/json", 503)
    failed.ensure_no_ack()
    return failed


def finish(context: Any, nuclio_event: Any, event: Event, reply: Any) -> Any:
    """The sync handler's end for a stream event: write the answer, then return it.

    Nuclio acks (implicitly) when the handler returns, which is after the write: the sync
    handler needs no explicit ack, and with ``explicitAckMode: explicitOnly`` use the async
    handler (``handler_async``), which acks explicitly.
    """
    output: StreamOutput | None = getattr(context.user_data, "stream_output", None)
    if output is None:
        return reply
    try:
        output.write(event, reply.status_code, _bytes(reply.body), nuclio_event.body)
    except Exception as exc:  # noqa: BLE001 - any failure leaves the message unacked
        return _unwritten(context, reply, event, exc)
    return reply


async def finish_async(context: Any, nuclio_event: Any, event: Event, reply: Any) -> Any:
    """The async handler's end for a stream event: write, then ack explicitly if asked."""
    output: StreamOutput | None = getattr(context.user_data, "stream_output", None)
    if output is None:
        return reply
    try:
        await output.write_async(event, reply.status_code, _bytes(reply.body), nuclio_event.body)
    except Exception as exc:  # noqa: BLE001 - any failure leaves the message unacked
        return _unwritten(context, reply, event, exc)
    if nuclio_event.trigger.name in output.ack_triggers:
        reply.ensure_no_ack()
        await _explicit_ack(context, nuclio_event, event)
    return reply


async def _explicit_ack(context: Any, nuclio_event: Any, event: Event) -> None:
    """Ack the event's offset; a failed ack is logged (the message stays uncommitted)."""
    import nuclio_sdk  # noqa: PLC0415 - only explicit-ack triggers need it

    try:
        await context.platform.explicit_ack(nuclio_sdk.QualifiedOffset.from_event(nuclio_event))
    except Exception:
        log.exception("event %s: the explicit ack failed", event.id)


def _bytes(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    return body.encode() if isinstance(body, str) else dump_json(body)
