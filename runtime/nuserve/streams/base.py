"""Stream: what a producer of any backend offers (queue steps, output and dead-letter streams).

``publish(body)`` sends a body (JSON bytes; bytes pass as they are) and returns it, for queue
steps that pass the body on. ``send(data, key, headers)`` is the confirmed form: it returns a
future that is done once the stream holds the message, so a trigger's offset is acked only
after its answer is written (``nuserve.nuclio.stream_output``).
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, ClassVar, NamedTuple

from nuserve.codec import dump_json

Headers = dict[str, str]


class Stream:
    """Base of the stream producers; ``close`` when the server closes."""

    blocking: ClassVar[bool] = True
    """``send`` does its I/O in the calling thread (an event loop runs it in a thread)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def publish(self, body: Any) -> Any:
        """Send ``body`` and return it (the queue passes the body on)."""
        raise NotImplementedError

    def send(
        self, data: bytes, key: bytes | None = None, headers: Headers | None = None
    ) -> Future[None]:
        """Publish ``data``; the future is done once the stream holds it (or has the error).

        This base publishes synchronously, so it is confirmed on return; key and headers are
        dropped (a v3io record has neither).
        """
        self.publish(data)
        return confirmed()

    def close(self) -> None:
        """Deliver what is pending (within the stream's flush timeout) and release clients."""


def encode(body: Any) -> bytes:
    """A body as the bytes a stream carries: bytes as they are, anything else as JSON."""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    return dump_json(body)


def confirmed() -> Future[None]:
    """A future already done: the message is delivered."""
    future: Future[None] = Future()
    future.set_result(None)
    return future


class Record(NamedTuple):
    """A message ``send`` put in a memory stream, with its key and headers."""

    value: bytes
    key: bytes | None
    headers: Headers
