"""Response bodies to bytes, shared by every adapter (Nuclio, the local HTTP server, streams)."""

from __future__ import annotations

from typing import Any

import orjson

from nuserve.event import Response

JSON = "application/json"
JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def dump_json(value: Any) -> bytes:
    """JSON bytes; numpy arrays and scalars are written as numbers and lists."""
    return orjson.dumps(value, option=JSON_OPTIONS)


def encode_response(response: Response, event_id: str) -> tuple[int, bytes, str]:
    """``(status, body bytes, content type)``; raw bytes pass through with their type.

    A body that cannot be written as JSON (a model returned an arbitrary object) becomes a
    500 that names the type, rather than an exception inside the adapter.
    """
    body = response.body
    if type(body) is bytes:
        return response.status_code, body, response.content_type
    try:
        return response.status_code, orjson.dumps(body, option=JSON_OPTIONS), JSON
    except TypeError as exc:
        error = {"error": f"response is not JSON-serialisable: {exc}", "id": event_id}
        return 500, orjson.dumps(error), JSON
