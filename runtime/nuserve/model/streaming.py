"""Streamed outputs: a ``predict`` (or a flow step) that is a sync or async generator.

With streaming on (``fn.set_streaming(True)``) each chunk goes to the client as it comes:
``stream_of`` turns the generator into a ``Stream`` of bytes (a ``str`` chunk as UTF-8 text,
``bytes`` as they are, anything else as one JSON line). With it off, callers that do not
stream get one answer: ``collect`` joins the chunks (strings and bytes concatenated, lists
extended, anything else listed). A sync generator is advanced in a worker thread, so a slow
chunk does not hold the event loop; closing the stream (the client left) closes the
generator, which runs its ``finally``.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator, Iterator
from typing import Any

from nuserve.codec import dump_json
from nuserve.event import Stream

TEXT = "text/plain; charset=utf-8"
JSON_LINES = "application/x-ndjson"
_DONE = object()
CHUNK_TYPES = frozenset({types.GeneratorType, types.AsyncGeneratorType})
"""A generator's output types (neither can be subclassed): ``type(x) in CHUNK_TYPES`` is the
hot path's test, with no call."""


def join(chunks: list[Any]) -> Any:
    """One value from a generator's chunks, for a caller that does not stream."""
    if chunks and all(type(c) is str for c in chunks):
        return "".join(chunks)
    if chunks and all(isinstance(c, bytes) for c in chunks):
        return b"".join(chunks)
    if chunks and all(type(c) is list for c in chunks):
        return [item for c in chunks for item in c]
    return chunks


def collect_sync(value: Any) -> Any:
    """Join a sync generator's chunks (an async one cannot be drained here: a ``TypeError``)."""
    if isinstance(value, types.AsyncGeneratorType):
        raise TypeError("an async generator is collected with 'await collect(...)'")
    return join(list(value))


async def collect(value: Any) -> Any:
    """Join a generator's chunks, sync or async."""
    if isinstance(value, types.AsyncGeneratorType):
        return join([chunk async for chunk in value])
    return join(await asyncio.to_thread(list, value))


def chunk_bytes(chunk: Any) -> bytes:
    if type(chunk) is str:
        return chunk.encode()
    if isinstance(chunk, bytes | bytearray | memoryview):
        return bytes(chunk)
    return dump_json(chunk) + b"\n"


def media_type_of(first: Any) -> str:
    return TEXT if type(first) is str else JSON_LINES


async def async_chunks(value: Any) -> AsyncIterator[Any]:
    """The chunks of a sync or async generator, as an async iterator; closed, it closes it."""
    if isinstance(value, types.AsyncGeneratorType):
        try:
            async for chunk in value:
                yield chunk
        finally:
            await value.aclose()
        return
    try:
        while True:
            chunk = await asyncio.to_thread(next, value, _DONE)
            if chunk is _DONE:
                return
            yield chunk
    finally:
        value.close()


async def _encoded(first: Any, rest: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    try:
        if first is not _DONE:
            yield chunk_bytes(first)
        async for chunk in rest:
            yield chunk_bytes(chunk)
    finally:
        close = getattr(rest, "aclose", None)
        if close is not None:
            await close()


async def stream_of(value: Any) -> Stream:
    """A ``Stream`` of a generator's chunks; its media type follows the first chunk."""
    chunks = async_chunks(value)
    first = await anext(chunks, _DONE)
    return Stream(_encoded(first, chunks), media_type_of(first))


def stream_of_sync(value: Iterator[Any]) -> Stream:
    """``stream_of`` for a sync generator, from sync code: the first chunk is taken here."""
    first = next(value, _DONE)
    return Stream(_encoded(first, async_chunks(value)), media_type_of(first))
