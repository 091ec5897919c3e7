"""Server-Sent Events as OpenAI sends them: ``data: {json}\\n\\n`` per chunk, then
``data: [DONE]\\n\\n``; the responses API names each event (``event: <type>``) instead."""

from __future__ import annotations

from typing import Any

import orjson

MEDIA_TYPE = "text/event-stream"
DONE = b"data: [DONE]\n\n"


def data(chunk: Any) -> bytes:
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def named(event: str, chunk: Any) -> bytes:
    return b"event: " + event.encode() + b"\n" + data(chunk)
