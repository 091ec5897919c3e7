"""Streamed answers over HTTP: chunked transfer, each chunk written as the model makes it.

A response whose body is a ``Stream`` (its chunks an async generator) is sent head first,
then chunk by chunk. The client leaving is watched for all along (ASGI's
``http.disconnect``) and looked at once per chunk: the generator is closed when the next chunk
comes, which stops the generation behind it within one step (a decode step for ``LLModel``),
and nothing is logged as a failure. (Waiting on both the chunk and the disconnect at once
cost two tasks a chunk, a tenth of a millisecond of time to first token.) A chunk
that fails mid-stream ends the body (the status has been sent); the failure is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from nuserve.serve.events import Header
from nuserve.serve.types import Receive, Send

CLIENT_GONE = 499
log = logging.getLogger("nuserve.serve")


async def _disconnected(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def stream_out(
    status: int, headers: list[Header], chunks: Any, receive: Receive, send: Send
) -> int:
    """Send the head, then each of ``chunks`` (an async generator); ``status``, or 499 when
    the client left before the end."""
    gone = asyncio.ensure_future(_disconnected(receive))
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        try:
            async for chunk in chunks:
                if gone.done():  # the client left while this chunk was being made
                    return CLIENT_GONE
                body = chunk if isinstance(chunk, bytes) else str(chunk).encode()
                await send({"type": "http.response.body", "body": body, "more_body": True})
        except Exception:
            log.exception("a streamed response failed mid-stream")
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return status
    finally:
        gone.cancel()
        with contextlib.suppress(BaseException):
            await chunks.aclose()
