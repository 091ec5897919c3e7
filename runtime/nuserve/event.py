"""Event and Response: the only request and response types the core knows.

Adapters (the Nuclio handler, the local HTTP server, stream consumers, the mock server) build an
``Event`` and turn the ``Response`` back into their own kind. The body of a ``Response`` is a
Python value (dict, list, str, bytes); adapters serialise it, so in-process callers never pay
for a JSON round trip.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import AsyncIterator
from typing import Any

_id_prefix = os.urandom(6).hex() + "-"
_id_counter = itertools.count(1)


def new_event_id() -> str:
    """A process-unique id: a random per-process prefix and a counter (cheaper than uuid4)."""
    return _id_prefix + str(next(_id_counter))


_stamp_second = -1
_stamp_prefix = ""
_stamp_ms = -1
_stamp = ""


def utc_timestamp() -> str:
    """The current UTC time, ISO 8601 to the millisecond; cached while the millisecond lasts.

    Responses carry a timestamp; formatting one per request cost more than the rest of the
    echo path. The date-and-seconds part is formatted once a second, the rest per millisecond.
    """
    global _stamp_second, _stamp_prefix, _stamp_ms, _stamp  # noqa: PLW0603 - hot-path cache
    ms = int(time.time() * 1000)
    if ms != _stamp_ms:
        second, milli = divmod(ms, 1000)
        if second != _stamp_second:
            _stamp_prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
            _stamp_second = second
        _stamp = f"{_stamp_prefix}{milli:03d}+00:00"
        _stamp_ms = ms
    return _stamp


class Event:
    """One request, whatever carried it (HTTP, a Kafka or v3io message, a test call)."""

    __slots__ = (
        "body",
        "content_type",
        "headers",
        "id",
        "method",
        "offset",
        "path",
        "shard_id",
        "time",
        "topic",
        "trigger",
    )

    def __init__(
        self,
        body: Any = None,
        path: str = "/",
        method: str = "POST",
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
        id: str | None = None,
        trigger: str = "http",
        offset: int | None = None,
        shard_id: int | None = None,
        topic: str | None = None,
        time: float | None = None,
    ) -> None:
        self.body = body
        self.path = path
        self.method = method or "POST"
        self.headers = headers if headers is not None else {}
        self.content_type = content_type
        self.id = id or _id_prefix + str(next(_id_counter))
        self.trigger = trigger
        self.offset = offset
        self.shard_id = shard_id
        self.topic = topic
        self.time = time

    def __repr__(self) -> str:
        return f"Event(id={self.id!r}, method={self.method!r}, path={self.path!r})"


class Response:
    """What the core answers: a status, a Python body, headers and a content type."""

    __slots__ = ("body", "content_type", "headers", "status_code")

    def __init__(
        self,
        body: Any = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self.body = body
        self.status_code = status_code
        self.headers = headers if headers is not None else {}
        self.content_type = content_type

    def __repr__(self) -> str:
        return f"Response(status_code={self.status_code}, body={self.body!r})"


class Stream:
    """A response body sent in pieces (``Response.body``): an async iterator of bytes.

    Adapters send each piece as it comes (chunked HTTP, Server-Sent Events, Nuclio's generator
    responses, the mock server's iterator) and call ``aclose`` when the client leaves, which
    ends the generation behind it. ``media_type`` is the body's content type.
    """

    __slots__ = ("chunks", "media_type")

    def __init__(self, chunks: AsyncIterator[bytes], media_type: str = "text/event-stream") -> None:
        self.chunks = chunks
        self.media_type = media_type

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.chunks

    async def aclose(self) -> None:
        close = getattr(self.chunks, "aclose", None)
        if close is not None:
            await close()

    def __repr__(self) -> str:
        return f"Stream(media_type={self.media_type!r})"
