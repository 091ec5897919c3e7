"""Streamed answers over HTTP: chunked transfer, each chunk written as the model makes it.

A response whose body is an async generator (``nuserve.nuclio.adapter.streamed_response``)
is sent head first, then chunk by chunk. The client leaving is watched for all along (ASGI's
``http.disconnect``): the generator is closed then, which stops the generation behind it
within one step (a decode step for ``LLModel``), and nothing is logged as a failure. A chunk
that fails mid-stream ends the body (the status has been sent); the failure is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from nuserve.serve.events import response_headers
from nuserve.serve.types import Receive, Send

CLIENT_GONE = 499
log = logging.getLogger("nuserve.serve")


async def _disconnected(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def stream_out(response: Any, receive: Receive, send: Send) -> int:
    """Send ``response`` (a ``nuclio_sdk.Response`` with a generator body); its status, or
    499 when the client left before the end."""
    chunks = response.body
    headers = response_headers(response, streamed=True)
    gone = asyncio.ensure_future(_disconnected(receive))
    status = int(response.status_code)
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        while True:
            step = asyncio.ensure_future(anext(chunks))
            await asyncio.wait([step, gone], return_when=asyncio.FIRST_COMPLETED)
            if not step.done():  # the client left while the next chunk was being made
                step.cancel()
                with contextlib.suppress(BaseException):
                    await step
                return CLIENT_GONE
            try:
                chunk = step.result()
            except StopAsyncIteration:
                break
            except Exception:
                log.exception("a streamed response failed mid-stream")
                break
            if gone.done():
                return CLIENT_GONE
            body = chunk if isinstance(chunk, bytes) else str(chunk).encode()
            await send({"type": "http.response.body", "body": body, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return status
    finally:
        gone.cancel()
        with contextlib.suppress(BaseException):
            await chunks.aclose()
